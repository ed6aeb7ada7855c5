"""Single figures as HTML files that work offline (plotly's JavaScript inlined, no CDN)."""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go

from ..errors import InputTypeError


def save_figure_html(fig: go.Figure, path: str | Path, div_id: str = "figure") -> Path:
    """Write ``fig`` as a standalone HTML page with plotly.js inlined; same figure, same bytes.

    Classrooms and cluster nodes are offline (DESIGN.md section 9), so no figure may
    load plotly from a CDN. Several figures belong in one ``musicinterp.report.Report``
    instead (plotly.js is then inlined once, not once per figure).
    """
    if not isinstance(fig, go.Figure):
        raise InputTypeError(f"fig must be a plotly graph_objects.Figure, got {type(fig).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = fig.to_html(full_html=True, include_plotlyjs=True, div_id=div_id, config={"displaylogo": False})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
