"""``Report``: figures, audio, tables and notes in one self-contained, offline HTML file.

plotly's JavaScript is inlined once; figures follow as ``<div>``s with deterministic
ids; audio is embedded as base64 WAV up to ``audio_budget_mb`` and written to a
``<name>_files/`` folder beside the HTML past it; tables are sortable and carry
their data as JSON. Saving the same report twice writes the same bytes.
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.basedatatypes import BaseFigure

from . import page
from .audio import Audio
from .errors import ReportError, ReportItemTypeError
from .html import esc, markdown_to_html, slug
from .provenance import Provenance
from .tables import is_table, table_html, to_table

DEFAULT_SECTION = "Results"
_DISPLAYS = itertools.count()


@dataclass
class Item:
    """One thing in the report: ``kind`` is figure, audio (a list of clips), table or text."""

    kind: str
    payload: Any
    section: str
    title: str
    caption: str


def _is_audio_tuple(item: Any) -> bool:
    return (isinstance(item, tuple) and len(item) == 2 and not isinstance(item[0], (Audio, str))
            and isinstance(item[1], (Real, np.integer)) and not isinstance(item[1], bool))


def _figure_title(fig: go.Figure) -> str:
    text = fig.layout.title.text if fig.layout.title is not None else None
    return str(text) if text else ""


class Report:
    """A report under construction. ``add`` items by section, then ``save`` (or display it in Jupyter)."""

    def __init__(self, title: str, provenance: Provenance | dict[str, Any] | None = None, *,
                 audio_budget_mb: float = 20.0) -> None:
        if not isinstance(title, str) or not title.strip():
            raise ReportError(f"title must be a non-empty string, got {title!r}")
        if isinstance(provenance, dict):
            provenance = Provenance.from_dict(provenance)
        if provenance is not None and not isinstance(provenance, Provenance):
            raise ReportError(f"provenance must be a Provenance, a dict or None, got {type(provenance).__name__}")
        if not isinstance(audio_budget_mb, Real) or not audio_budget_mb >= 0:
            raise ReportError(f"audio_budget_mb must be a number >= 0, got {audio_budget_mb!r}")
        self.title = title
        self.provenance = provenance if provenance is not None else Provenance()
        self.audio_budget_mb = float(audio_budget_mb)
        self.items: list[Item] = []

    # ------------------------------------------------------------------ adding
    def add(self, item: Any, section: str | None = None, title: str | None = None,
            caption: str | None = None) -> Report:
        """Add a plotly figure, audio (``Audio``, ``(samples, rate)``, or a list of them), a table
        (DataFrame or list of dicts) or markdown text. ``section`` defaults to the last one used."""
        for name, value in (("section", section), ("title", title), ("caption", caption)):
            if value is not None and not isinstance(value, str):
                raise ReportError(f"{name} must be a string, got {type(value).__name__}")
        section = section or (self.items[-1].section if self.items else DEFAULT_SECTION)
        kind, payload = self._classify(item, title)
        if title is None:
            title = _figure_title(payload) if kind == "figure" else ""
        self.items.append(Item(kind, payload, section, title, caption or ""))
        return self

    @staticmethod
    def _classify(item: Any, title: str | None) -> tuple[str, Any]:
        if isinstance(item, BaseFigure):
            return "figure", go.Figure(item)
        if isinstance(item, Audio) or _is_audio_tuple(item):
            return "audio", [Audio.coerce(item, title or "")]
        if isinstance(item, (list, tuple)) and item and all(isinstance(a, Audio) or _is_audio_tuple(a)
                                                           for a in item):
            return "audio", [Audio.coerce(a, f"#{i}") for i, a in enumerate(item)]
        if is_table(item):
            return "table", to_table(item)
        if isinstance(item, str):
            return "text", item
        raise ReportItemTypeError(
            f"item must be a plotly Figure, an Audio or (samples, sample_rate) tuple (or a list of them), a pandas "
            f"DataFrame, a list of dicts, or markdown text; got {type(item).__name__}")

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(it.section for it in self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"Report({self.title!r}, {len(self.sections)} sections, {len(self.items)} items)"

    # --------------------------------------------------------------- rendering
    def _render(self, prefix: str, sidecar: str | None) -> tuple[str, str, dict[str, bytes]]:
        """(toc, body, sidecar files by name); ``sidecar`` None means audio past the budget is left out."""
        budget = int(self.audio_budget_mb * 1e6)
        embedded, spilled, clip_no = 0, False, 0
        files: dict[str, bytes] = {}
        anchors: dict[str, str] = {}
        toc: list[tuple[str, str, list[tuple[str, str]]]] = []
        blocks: dict[str, list[str]] = {}
        entries: dict[str, list[tuple[str, str]]] = {}
        for n, it in enumerate(self.items):
            if it.section not in anchors:
                base = f"{prefix}sec-{slug(it.section, 'section')}"
                anchors[it.section] = base if base not in anchors.values() else f"{base}-{len(anchors)}"
                entries[it.section], blocks[it.section] = [], []
                toc.append((anchors[it.section], it.section, entries[it.section]))
            item_id = f"{prefix}item-{n}"
            if it.kind == "figure":
                height = f"{int(it.payload.layout.height)}px" if it.payload.layout.height else "450px"
                content = it.payload.to_html(full_html=False, include_plotlyjs=False, div_id=f"{prefix}fig-{n}",
                                             default_height=height, config={"displaylogo": False})
            elif it.kind == "table":
                content = table_html(it.payload, f"{prefix}tbl-{n}")
            elif it.kind == "text":
                content = f'<div class="mi-text">{markdown_to_html(it.payload, heading_offset=2)}</div>'
            else:
                players = []
                for clip in it.payload:
                    wav = clip.wav_bytes()
                    size = (len(wav) + 2) // 3 * 4
                    spilled = spilled or embedded + size > budget
                    if not spilled:
                        embedded += size
                        players.append(clip.player_html("data:audio/wav;base64," + base64.b64encode(wav).decode()))
                    elif sidecar is not None:
                        name = f"{clip_no:03d}-{slug(clip.label, 'clip')}.wav"
                        files[name] = wav
                        players.append(clip.player_html(f"{sidecar}/{name}"))
                    else:
                        players.append(f'<p class="mi-note">{esc(clip.label)}: not embedded (past the '
                                       f"{self.audio_budget_mb:g} MB audio budget); save the report to get it.</p>")
                    clip_no += 1
                content = "".join(players)
            head = f"<h3>{esc(it.title)}</h3>" if it.title else ""
            caption = f'<div class="mi-caption">{markdown_to_html(it.caption)}</div>' if it.caption else ""
            blocks[it.section].append(f'<div class="mi-item mi-{it.kind}" id="{item_id}">{head}\n{content}\n'
                                      f"{caption}</div>")
            entries[it.section].append((item_id, it.title))
        body = "\n".join(f'<section id="{anchors[s]}"><h2>{esc(s)}</h2>\n' + "\n".join(blocks[s]) + "\n</section>"
                         for s in blocks)
        return page.toc_html(toc), body, files

    def to_html(self, sidecar: str | None = None) -> tuple[str, dict[str, bytes]]:
        """The full document and the sidecar files it refers to (``{name: wav bytes}`` under ``sidecar/``)."""
        toc, body, files = self._render("", sidecar)
        return page.document(self.title, self.provenance.html(), toc, body), files

    def _repr_html_(self) -> str:
        toc, body, _ = self._render(f"mi{next(_DISPLAYS)}-", None)
        return page.fragment(self.title, self.provenance.html(), toc, body, notebook=True)

    # ------------------------------------------------------------------ saving
    def save(self, path: str | Path) -> Path:
        """Write the report to ``path`` (atomically); audio past the budget goes to ``<stem>_files/``."""
        path = Path(path)
        if path.is_dir():
            raise ReportError(f"path {path} is a folder; give a file name such as {path / 'report.html'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar = path.with_name(path.stem + "_files")
        document, files = self.to_html(sidecar.name)
        _replace_sidecar(sidecar, files)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            tmp.write_text(document, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def _replace_sidecar(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files`` (or not exist); refuse to touch a folder with other content."""
    if folder.exists():
        foreign = [p.name for p in folder.iterdir() if not (p.is_file() and p.suffix == ".wav")]
        if foreign:
            raise ReportError(f"{folder} exists and holds files other than report audio ({', '.join(foreign[:3])}); "
                              f"move it or save the report under another name")
    if not files:
        if folder.exists():
            shutil.rmtree(folder)
        return
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
