"""Ablation and patching views: layer bars, layer x head / layer x frame heatmaps, codebook breakdowns,
and the causal map beside the probe map (where a concept is read vs where it is used)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..ablation.result import SweepResult
from ..errors import InputError
from ..probes import ProbeBank
from .numbers import heat_text
from .probes import head_heatmap_trace

DIVERGING = "RdBu"


def _scores(result: SweepResult, value: str | None) -> tuple[np.ndarray, str]:
    """The cell scores to draw and their name: ``normalized``, ``delta`` (change from the no-edit run) or ``raw``."""
    value = value or ("normalized" if result.kind == "patching" else "delta")
    if value == "normalized":
        return result.normalized.numpy(), "normalised score"
    if value == "delta":
        return (result.tensor - result.baseline).numpy(), f"change in {result.metric}"
    if value == "raw":
        return result.tensor.numpy(), result.metric
    raise InputError(f"value must be 'normalized', 'delta' or 'raw', got {value!r}")


def _title(result: SweepResult) -> str:
    return f"{result.kind}: {result.method} at {result.site}, metric {result.metric}"


def layer_bars(result: SweepResult, *, normalized: bool = False) -> go.Figure:
    """One bar per layer (or window) with the clean, fully-corrupt and no-edit references as lines."""
    if len(result.axes) != 1:
        raise InputError(f"layer bars need a one-axis sweep; this one is over {result.axes}")
    labels = [str(x) for x in result.labels[result.axes[0]]]
    if normalized:
        y = result.normalized.numpy()
        refs = {"clean": 1.0, "fully corrupt": 0.0,
                "no edit": float((result.baseline - result.corrupt) / (result.clean - result.corrupt))
                if result.clean != result.corrupt else float("nan")}
    else:
        y = result.tensor.numpy()
        refs = {"clean": result.clean, "fully corrupt": result.corrupt, "no edit": result.baseline}
    fig = go.Figure(go.Bar(x=labels, y=y, name=result.metric, marker_color="#4c78a8",
                           hovertemplate=f"{result.axes[0]} %{{x}}<br>%{{y:.4f}}<extra></extra>"))
    dashes = {"clean": "solid", "fully corrupt": "dash", "no edit": "dot"}
    colours = {"clean": "#2ca02c", "fully corrupt": "#d62728", "no edit": "#7f7f7f"}
    for name, v in refs.items():
        fig.add_trace(go.Scatter(x=labels, y=[v] * len(labels), mode="lines", name=f"{name} ({v:.3g})",
                                 line={"dash": dashes[name], "color": colours[name]}))
    fig.update_layout(title=_title(result), xaxis_title=result.axes[0], template="plotly_white",
                      yaxis_title="normalised score" if normalized else result.metric, xaxis_type="category")
    return fig


def sweep_heatmap_trace(result: SweepResult, *, value: str | None = None, showscale: bool = True) -> go.Heatmap:
    z, name = _scores(result, value)
    if z.ndim != 2:
        raise InputError(f"a heatmap needs a two-axis sweep; this one is over {result.axes}")
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    ya, xa = result.axes
    return go.Heatmap(z=z, x=[str(v) for v in result.labels[xa]], y=[str(v) for v in result.labels[ya]],
                      colorscale=DIVERGING, zmid=0.0, zmin=-max(bound, 1e-9), zmax=max(bound, 1e-9),
                      reversescale=True, showscale=showscale, colorbar={"title": name},
                      hovertemplate=f"{ya} %{{y}}, {xa} %{{x}}<br>{name} %{{z:.3f}}<extra></extra>")


def sweep_heatmap(result: SweepResult, *, value: str | None = None) -> go.Figure:
    """Layer x head or layer x frame on a diverging scale centred on 0 (normalised score for patching,
    change in the metric for ablation)."""
    fig = go.Figure(sweep_heatmap_trace(result, value=value))
    ya, xa = result.axes
    fig.update_layout(title=_title(result), xaxis_title=xa, yaxis_title=ya, template="plotly_white",
                      height=max(300, 22 * len(result.labels[ya]) + 140))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category" if xa != "frame" else "linear")
    return fig


def codebook_breakdown(result: SweepResult) -> go.Figure:
    """Per-codebook change in the metric for each layer (which of lead, drums, brightness, bass breaks)."""
    if result.per_codebook is None:
        raise InputError(f"metric {result.metric!r} is not per codebook; sweep with metric='ce' or 'kl'")
    if len(result.axes) != 1:
        raise InputError(f"a codebook breakdown needs a one-axis sweep; this one is over {result.axes}")
    base = result.clean_per_codebook if result.kind == "ablation" else result.corrupt_per_codebook
    z = (result.per_codebook - base).numpy()
    bound = max(float(np.abs(z).max()), 1e-9)
    ax = result.axes[0]
    fig = go.Figure(go.Heatmap(
        z=z, x=result.codebooks, y=[str(v) for v in result.labels[ax]], colorscale=DIVERGING, zmid=0.0,
        zmin=-bound, zmax=bound, reversescale=True, colorbar={"title": f"change in {result.metric}"},
        text=heat_text(z), texttemplate="%{text}",
        hovertemplate=f"{ax} %{{y}}, codebook %{{x}}<br>change %{{z:.4f}}<extra></extra>"))
    fig.update_layout(title=f"{_title(result)} — per codebook", xaxis_title="codebook", yaxis_title=ax,
                      template="plotly_white", height=max(300, 30 * len(result.labels[ax]) + 140))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def read_vs_used(result: SweepResult, bank: ProbeBank, *, value: str | None = None) -> go.Figure:
    """The probe heatmap of a concept (where it is *read*) beside the sweep (where it is *used*)."""
    if result.axes != ("layer", "head") or len(bank.grid) != 2:
        raise InputError("read_vs_used compares a layer x head sweep with a per-head probe bank")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.16, subplot_titles=(
        f"read: {bank.concept} probe accuracy ({bank.site})", f"used: {result.method} at {result.site}"))
    probe = head_heatmap_trace(bank, showscale=True)
    probe.colorbar = {"title": "accuracy", "x": 0.42}
    fig.add_trace(probe, row=1, col=1)
    fig.add_trace(sweep_heatmap_trace(result, value=value), row=1, col=2)
    fig.update_yaxes(autorange="reversed", title_text="layer")
    fig.update_xaxes(title_text="head")
    fig.update_layout(title=f"where {bank.concept} is read vs where it is used ({result.metric})",
                      template="plotly_white", height=max(320, 22 * bank.grid[0] + 160))
    return fig
