"""Training curves."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go


def loss_curve_figure(steps: Sequence[int], loss: Sequence[float], title: str = "Organism training loss"
                      ) -> go.Figure:
    fig = go.Figure(go.Scatter(x=list(steps), y=list(loss), mode="lines", name="loss"))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="cross-entropy (nats)", template="plotly_white")
    return fig
