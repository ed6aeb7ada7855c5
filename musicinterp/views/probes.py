"""Probe-accuracy views: layer x head heatmaps (SMITIN Fig. 3 style), per-layer curves, concept grids."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..errors import InputError
from ..probes import ProbeBank

COLORSCALE = "Viridis"


def _shared_range(banks: Sequence[ProbeBank]) -> tuple[float, float]:
    lo = min(float(b.val_acc.min()) for b in banks)
    hi = max(float(b.val_acc.max()) for b in banks)
    return (min(lo, 0.5), max(hi, lo + 1e-6))


def _head_matrices(bank: ProbeBank, sort: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy, AUC and original head index per cell, ``(layers, heads)``; sorted per layer if asked."""
    if len(bank.grid) != 2:
        raise InputError(f"a layer x head heatmap needs a head site; {bank.site!r} probes are per layer")
    acc = bank.accuracy_grid().numpy()
    auc = bank.auc_grid().numpy()
    heads = np.tile(np.arange(acc.shape[1]), (acc.shape[0], 1))
    if sort:
        order = np.argsort(-acc, axis=1, kind="stable")
        acc, auc, heads = (np.take_along_axis(m, order, axis=1) for m in (acc, auc, heads))
    return acc, auc, heads


def head_heatmap_trace(bank: ProbeBank, *, sort: bool = False, zrange: tuple[float, float] | None = None,
                       showscale: bool = True) -> go.Heatmap:
    acc, auc, heads = _head_matrices(bank, sort)
    zmin, zmax = zrange or _shared_range([bank])
    layers = np.repeat(np.arange(acc.shape[0])[:, None], acc.shape[1], axis=1)
    n = np.full_like(acc, bank.n_val, dtype=float)
    custom = np.stack([layers, heads, auc, n], axis=-1)
    return go.Heatmap(
        z=acc, zmin=zmin, zmax=zmax, colorscale=COLORSCALE, showscale=showscale, customdata=custom,
        colorbar={"title": "val. accuracy"},
        hovertemplate=("layer %{customdata[0]}, head %{customdata[1]}<br>accuracy %{z:.3f}"
                       "<br>AUC %{customdata[2]:.3f}<br>n (val) %{customdata[3]}<extra></extra>"),
    )


def head_heatmap(bank: ProbeBank, *, sort: bool = False, zrange: tuple[float, float] | None = None) -> go.Figure:
    """Layer x head validation accuracy. ``sort=True`` orders each layer's heads by accuracy (SMITIN Fig. 3)."""
    fig = go.Figure(head_heatmap_trace(bank, sort=sort, zrange=zrange))
    fig.update_layout(
        title=f"{bank.concept}: probe accuracy per head ({bank.site}, {bank.pooling} frames)"
              + (" — heads sorted per layer" if sort else ""),
        xaxis_title="head (sorted by accuracy)" if sort else "head", yaxis_title="layer",
        template="plotly_white", height=max(300, 18 * bank.grid[0] + 120))
    fig.update_yaxes(autorange="reversed")
    return fig


def layer_accuracy_curve(banks: Sequence[ProbeBank]) -> go.Figure:
    """Validation accuracy per layer for per-layer probes (e.g. ``resid``), one line per bank."""
    fig = go.Figure()
    for bank in banks:
        if len(bank.grid) != 1:
            raise InputError(f"{bank.site!r} probes are per head; use head_heatmap")
        layers = list(range(bank.grid[0]))
        fig.add_trace(go.Scatter(
            x=layers, y=bank.val_acc.tolist(), mode="lines+markers", name=f"{bank.concept} ({bank.pooling})",
            customdata=np.stack([bank.val_auc.numpy(), np.full(len(layers), bank.n_val)], axis=-1),
            hovertemplate="layer %{x}<br>accuracy %{y:.3f}<br>AUC %{customdata[0]:.3f}<br>n %{customdata[1]}"
                          "<extra>%{fullData.name}</extra>"))
    fig.update_layout(title="probe accuracy per layer", xaxis_title="layer", yaxis_title="validation accuracy",
                      yaxis_range=[0.4, 1.02], template="plotly_white")
    return fig


def concept_grid(banks: Sequence[ProbeBank], *, sort: bool = True, cols: int = 2) -> go.Figure:
    """Several concepts' head heatmaps side by side on one shared colour range.

    Axis titles go on the outer panels only (x on the bottom row, y on the left column) and the rows
    are spaced in pixels, so no subplot title sits on an axis title."""
    rows = (len(banks) + cols - 1) // cols
    panel = 18 * banks[0].grid[0] + 60  # px per heatmap
    gap = 90  # px between rows: tick labels of one row, the title of the next
    height = rows * panel + (rows - 1) * gap + 140
    plot = height - 140  # the plot area (margins t=80, b=60)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{b.concept} ({b.pooling} frames)" for b in banks],
                        horizontal_spacing=0.1, vertical_spacing=gap / plot if rows > 1 else 0.0)
    zr = _shared_range(banks)
    for i, bank in enumerate(banks):
        fig.add_trace(head_heatmap_trace(bank, sort=sort, zrange=zr, showscale=i == 0), row=i // cols + 1,
                      col=i % cols + 1)
    fig.update_yaxes(autorange="reversed")
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text="layer", row=r, col=1)
    for c in range(1, cols + 1):
        last = max(r for r in range(1, rows + 1) if (r - 1) * cols + c <= len(banks))
        fig.update_xaxes(title_text="head (sorted per layer)" if sort else "head", row=last, col=c)
    fig.update_layout(title="probe accuracy per head, shared colour range", template="plotly_white",
                      height=height, margin={"t": 80, "b": 60})
    return fig
