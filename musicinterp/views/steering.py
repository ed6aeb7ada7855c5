"""Steering views: success vs fidelity across strengths, the monitor trace (SMITIN Fig. 4), a comparison table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..steering.monitor import MonitorTrace


def _is_control(method: str) -> bool:
    return "~random" in method


def _error_y(pts: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Asymmetric error bars from each row's ``success_lo``/``success_hi`` (95% Wilson), when present."""
    if not all(r.get("success_lo") is not None and r.get("success_hi") is not None for r in pts):
        return None
    return {"type": "data", "symmetric": False, "array": [r["success_hi"] - r["success"] for r in pts],
            "arrayminus": [r["success"] - r["success_lo"] for r in pts], "thickness": 1.2, "width": 4}


def success_vs_fidelity(rows: Sequence[dict[str, Any]], task: str | None = None) -> go.Figure:
    """One line per method through its strength sweep: NLL increase (x) against success (y).

    Rows with ``success_lo``/``success_hi`` get 95% error bars; random-direction controls
    (``<method>~random<i>``) are drawn as dotted grey lines."""
    rows = [r for r in rows if task is None or r["task"] == task]
    fig = go.Figure()
    for method in dict.fromkeys(r["method"] for r in rows):
        pts = sorted((r for r in rows if r["method"] == method), key=lambda r: r["strength"])
        control = _is_control(method)
        style = {"line": {"dash": "dot", "color": "#9aa0a8"}, "marker": {"symbol": "x", "color": "#9aa0a8"}} \
            if control else {}
        fig.add_trace(go.Scatter(
            x=[r["nll_increase"] for r in pts], y=[r["success"] for r in pts], mode="lines+markers", name=method,
            error_y=_error_y(pts), **style,
            customdata=[[r["strength"], r.get("validity"), r["collateral"]] for r in pts],
            hovertemplate=("strength %{customdata[0]}<br>success %{y:.2f}<br>NLL increase %{x:.3f}"
                           "<br>validity %{customdata[1]:.2f}<br>max collateral %{customdata[2]:.2f}"
                           "<extra>%{fullData.name}</extra>")))
    fig.update_layout(title="success vs fidelity" + (f" — {task}" if task else ""),
                      xaxis_title="NLL increase under the unsteered model (nats/token)",
                      yaxis_title="success (detector positive)", yaxis_range=[-0.05, 1.05], template="plotly_white")
    return fig


def monitor_trace_figure(trace: MonitorTrace, prompt: int = 0, title: str = "SMITIN self-monitoring") -> go.Figure:
    """The monitor reading over steps with the threshold, warm-up, the steps that were steered and, when
    the reading reached tau, the step where the monitor stopped the steering."""
    readings, strengths = trace.as_tensors()
    steps = trace.steps
    c = readings[:, prompt].tolist()
    s = strengths[:, prompt].tolist()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=steps, y=c, mode="lines", name="monitor reading"), secondary_y=False)
    edited = [st for st, v in zip(steps, s, strict=True) if v > 0]
    fig.add_trace(go.Scatter(x=edited, y=[c[steps.index(st)] for st in edited], mode="markers",
                             marker={"symbol": "triangle-up", "size": 7}, name="intervened step"), secondary_y=False)
    fig.add_trace(go.Scatter(x=steps, y=s, mode="lines", line={"dash": "dot"}, name="strength"), secondary_y=True)
    fig.add_hline(y=trace.tau, line_dash="dash", annotation_text=f"tau = {trace.tau:.2f}",
                  annotation_position="bottom right")
    if trace.warmup:
        fig.add_vrect(x0=0, x1=trace.warmup, fillcolor="grey", opacity=0.12, line_width=0,
                      annotation_text="warm-up", annotation_position="bottom left")
    stop = int(trace.stop_step()[prompt]) if steps else -1
    if stop >= 0:
        fig.add_vline(x=stop, line_color="#2ca02c", annotation_text=f"stops at step {stop}",
                      annotation_position="top right")
    lo, hi = min(c + [trace.tau]), max(c + [trace.tau])
    pad = 0.1 * max(hi - lo, 1e-3)
    fig.update_yaxes(title_text="monitor reading", range=[lo - pad, hi + pad], secondary_y=False)
    fig.update_yaxes(title_text="strength", rangemode="tozero", secondary_y=True)
    fig.update_layout(title=title, xaxis_title="generation step", template="plotly_white",
                      legend={"orientation": "h", "y": -0.22, "x": 0}, margin={"b": 110})
    return fig


TABLE_COLUMNS = ("task", "method", "strength", "success", "collateral", "validity", "nll_increase", "key_kept",
                 "tempo_kept", "verdict", "within_limits")


def comparison_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = TABLE_COLUMNS) -> go.Figure:
    cols = [c for c in columns if any(c in r for r in rows)]

    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))

    cells = [[fmt(r.get(c)) for r in rows] for c in cols]
    fig = go.Figure(go.Table(header={"values": list(cols)}, cells={"values": cells}))
    fig.update_layout(title="methods at their best setting", template="plotly_white")
    return fig


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """Rows as a markdown table; a column whose row holds ``<column>_lo`` and ``_hi`` shows its 95% interval,
    ``0.94 [0.85, 0.98]`` (the header says so)."""
    cols = [c for c in columns if any(c in r for r in rows)]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.3f}"
        return "" if v is None else str(v)

    def cell(r: dict[str, Any], c: str) -> str:
        lo, hi = r.get(f"{c}_lo"), r.get(f"{c}_hi")
        return fmt(r.get(c)) + (f" [{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else "")

    with_ci = {c for c in cols if any(f"{c}_lo" in r for r in rows)}
    head = [f"{c} (95%)" if c in with_ci else c for c in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r, c) for c in cols) + " |" for r in rows]
    return "\n".join(lines)

