"""Piano-roll style views of code sequences."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots


def codes_figure(codes: torch.Tensor, *, frame_rate: int = 50, roles: Sequence[str] | None = None,
                 title: str = "", silence: int | None = 0) -> go.Figure:
    """One row per codebook: each frame's token id over time (silence tokens hidden)."""
    codes = torch.as_tensor(codes)
    if codes.dim() == 3:
        codes = codes[0]
    k, t = codes.shape
    roles = list(roles) if roles is not None else [f"codebook {i}" for i in range(k)]
    fig = make_subplots(rows=k, cols=1, shared_xaxes=True, subplot_titles=roles, vertical_spacing=0.04)
    times = torch.arange(t).float() / frame_rate
    for i in range(k):
        row = codes[i]
        keep = row != silence if silence is not None else torch.ones_like(row, dtype=torch.bool)
        fig.add_trace(go.Scatter(x=times[keep].tolist(), y=row[keep].tolist(), mode="markers",
                                 marker={"size": 4}, name=roles[i], showlegend=False,
                                 hovertemplate="t=%{x:.2f}s<br>token %{y}<extra>" + roles[i] + "</extra>"),
                      row=i + 1, col=1)
        fig.update_yaxes(title_text="token", row=i + 1, col=1)
    fig.update_xaxes(title_text="time (s)", row=k, col=1)
    fig.update_layout(title=title, height=140 * k + 80, template="plotly_white", margin={"t": 60})
    return fig
