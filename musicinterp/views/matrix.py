"""The steering matrix as a heatmap: method x (concept, direction) -> success at the limits, per task.

A cell whose method has no setting within the validity and collateral limits
shows no colour (its best success is written in the cell, marked "out"), so a
high number outside the limits never reads as a success. One task is shown
at a time; with ``task=None`` a dropdown switches between every task.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ..errors import InputError

__all__ = ["matrix_heatmap", "heatmap_grid"]


def _frame(matrix: Any):
    """A SteeringMatrix's DataFrame, or the DataFrame itself."""
    frame = matrix.to_pandas() if hasattr(matrix, "to_pandas") else matrix
    need = {"method", "concept", "direction", "task", "success", "within_limits"}
    missing = need - set(getattr(frame, "columns", []))
    if missing:
        raise InputError(f"matrix must be a SteeringMatrix or its DataFrame; missing columns {sorted(missing)}")
    return frame


def heatmap_grid(matrix: Any, task: str = "continuation") -> dict[str, Any]:
    """Rows (methods), columns ("concept add"/"concept remove"), success within limits (None outside, or where
    the cell did not run) and the cell texts ("out 0.94" outside the limits)."""
    frame = _frame(matrix)
    sub = frame[frame["task"] == task]
    if sub.empty:
        raise InputError(f"task must be one of {sorted(set(frame['task']))}, got {task!r}")
    methods = list(dict.fromkeys(sub["method"]))
    cols = list(dict.fromkeys(zip(sub["concept"], sub["direction"], strict=True)))
    cell = {(r.method, r.concept, r.direction): r for r in sub.itertuples()}
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for m in methods:
        z.append([])
        text.append([])
        for c, d in cols:
            r = cell.get((m, c, d))
            if r is None:
                z[-1].append(None)
                text[-1].append("—")
            elif bool(r.within_limits):
                z[-1].append(float(r.success))
                text[-1].append(f"{r.success:.2f}")
            else:
                z[-1].append(None)
                text[-1].append(f"out {r.success:.2f}")
    return {"methods": methods, "columns": [f"{c} {d}" for c, d in cols], "z": z, "text": text}


def _trace(grid: dict[str, Any], visible: bool = True) -> go.Heatmap:
    return go.Heatmap(z=grid["z"], x=grid["columns"], y=grid["methods"], text=grid["text"], texttemplate="%{text}",
                      zmin=0.0, zmax=1.0, colorscale="Viridis", colorbar={"title": "success"}, visible=visible,
                      hoverongaps=True, xgap=2, ygap=2,
                      hovertemplate="%{y} / %{x}<br>%{text}<extra></extra>")


def matrix_heatmap(matrix: Any, task: str | None = "continuation", title: str | None = None) -> go.Figure:
    """Heatmap of success at each method's best setting within the limits (grey "out" cells: no setting within).

    ``matrix`` is a :class:`~musicinterp.compare.matrix.SteeringMatrix` or its
    ``to_pandas()`` frame. ``task=None`` draws every task with a dropdown.
    """
    frame = _frame(matrix)
    tasks = list(dict.fromkeys(frame["task"])) if task is None else [task]
    grids = [heatmap_grid(frame, t) for t in tasks]
    fig = go.Figure([_trace(g, visible=i == 0) for i, g in enumerate(grids)])
    fig.update_layout(title=title or f"steering success at the limits — {tasks[0]}", template="plotly_white",
                      plot_bgcolor="#d9d9d9", xaxis_title="concept, direction", yaxis_title="method",
                      yaxis_autorange="reversed")
    if len(tasks) > 1:
        buttons = [{"label": t, "method": "update",
                    "args": [{"visible": [j == i for j in range(len(tasks))]},
                             {"title": title or f"steering success at the limits — {t}"}]}
                   for i, t in enumerate(tasks)]
        fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0, "y": 1.15}])
    return fig
