"""Build a ``Report`` from a saved output folder (or an activation store).

The on-disk layout of a results folder (every part optional, at least one item)::

    OUT/
      provenance.json        {"model", "fingerprint", "store_digest", "seeds", "command", "versions", ...};
                             other keys are shown as extra header rows
      sections.json          {"title": str, "order": [section, ...], "titles": {section: title shown},
                              "items": {"<path relative to OUT>": {"section", "title", "caption"}}}
      text/**/*.md           markdown notes                        (section "Notes")
      figures/**/*.json      plotly figures, ``fig.write_json``    (section "Figures")
      tables/**/*.csv        tables with a header row              (section "Tables")
      tables/**/*.json       a list of row objects, or {"columns": [...], "rows": [[...], ...]}
      audio/**/*.wav         clips; the WAVs of one folder form one row of players (section "Audio")

A file in a subfolder takes the subfolder's name as its section (``figures/probes/x.json``
-> section "probes"; ``audio/continuation/*.wav`` -> section "continuation"). Entries of
``sections.json`` override section, title and caption per file (for audio, per folder:
``"audio/continuation"``); sections appear in ``order`` first, then as found; listed items
come first in their section. Files are otherwise taken in name order (a folder's own files
before its subfolders): text, figures, tables, audio.

A folder holding an activation store (``metadata.json`` of a store) is reported by
:func:`musicinterp.report.store_report.store_report` instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .audio import Audio
from .errors import ReportError
from .provenance import Provenance
from .report import Report

KINDS = (("text", (".md",), "Notes"), ("figures", (".json",), "Figures"), ("tables", (".csv", ".json"), "Tables"),
         ("audio", (".wav",), "Audio"))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReportError(f"cannot read {path}: {err}") from err


def _load_figure(path: Path) -> Any:
    import plotly.io as pio

    try:
        return pio.read_json(str(path))
    except (ValueError, KeyError, TypeError) as err:
        raise ReportError(f"{path} is not a plotly figure JSON (write it with fig.write_json): {err}") from err


def _load_table(path: Path) -> Any:
    if path.suffix == ".csv":
        import pandas as pd

        try:
            return pd.read_csv(path)
        except (OSError, ValueError) as err:
            raise ReportError(f"cannot read table {path}: {err}") from err
    data = _read_json(path)
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("rows"), list):
        cols = [str(c) for c in data["columns"]]
        if any(not isinstance(r, list) or len(r) != len(cols) for r in data["rows"]):
            raise ReportError(f"table {path}: every row must be a list of {len(cols)} values (one per column)")
        return [dict(zip(cols, r, strict=True)) for r in data["rows"]]
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return data
    raise ReportError(f"table {path} must hold a non-empty list of row objects or {{'columns': [...], 'rows': "
                      f"[[...]]}}")


def _load_wav(path: Path) -> Audio:
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, sf.LibsndfileError) as err:
        raise ReportError(f"cannot read audio {path}: {err}") from err
    samples = data[:, 0] if data.shape[1] == 1 else data.T
    try:
        return Audio(samples, rate, path.stem)
    except ReportError as err:
        raise ReportError(f"audio {path}: {err}") from err


def _section(rel: Path, default: str) -> str:
    return rel.parent.parts[-1] if len(rel.parts) > 2 else default


def _discover(folder: Path) -> list[tuple[str, str, str, Any]]:
    """(key, kind, default section, loader result) for every file of the layout, in layout order."""
    found: list[tuple[str, str, str, Any]] = []
    for sub, suffixes, default in KINDS:
        root = folder / sub
        if not root.is_dir():
            continue
        paths = sorted((p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes),
                       key=lambda p: (len(p.parts), p.as_posix()))  # a folder's own files before subfolders
        if sub == "audio":
            for parent in sorted({p.parent for p in paths}, key=lambda p: (len(p.parts), p.as_posix())):
                rel = parent.relative_to(folder)
                clips = [_load_wav(p) for p in paths if p.parent == parent]
                found.append((rel.as_posix(), "audio", rel.parts[-1] if len(rel.parts) > 1 else default, clips))
            continue
        for p in paths:
            rel = p.relative_to(folder)
            load = {"text": lambda q: q.read_text(encoding="utf-8"), "figures": _load_figure,
                    "tables": _load_table}[sub]
            found.append((rel.as_posix(), sub, _section(rel, default), load(p)))
    return found


def _read_sections(folder: Path) -> dict[str, Any]:
    path = folder / "sections.json"
    if not path.is_file():
        return {}
    spec = _read_json(path)
    if not isinstance(spec, dict):
        raise ReportError(f"{path} must be a JSON object with 'title', 'order' and 'items'")
    if not isinstance(spec.get("order", []), list) or not isinstance(spec.get("items", {}), dict):
        raise ReportError(f"{path}: 'order' must be a list of section names and 'items' an object keyed by path")
    if not isinstance(spec.get("titles", {}), dict):
        raise ReportError(f"{path}: 'titles' must be an object from section name to the title shown")
    return spec


def build_report(folder: str | Path, *, title: str | None = None, audio_budget_mb: float = 20.0) -> Report:
    """A ``Report`` of everything in a results folder laid out as described in this module's docstring."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"folder {folder} does not exist or is not a folder")
    meta = folder / "metadata.json"
    if meta.is_file() and "model_fingerprint" in _read_json(meta):
        from .store_report import store_report

        return store_report(folder, title=title, audio_budget_mb=audio_budget_mb)
    spec = _read_sections(folder)
    prov_path = folder / "provenance.json"
    provenance = Provenance.from_dict(_read_json(prov_path), str(prov_path)) if prov_path.is_file() else None
    found = _discover(folder)
    if not found:
        raise ReportError(f"{folder} holds no report items (expected text/*.md, figures/*.json, "
                          f"tables/*.csv|json or audio/*.wav)")
    overrides: dict[str, Any] = spec.get("items", {})
    unknown = sorted(set(overrides) - {key for key, *_ in found})
    if unknown:
        raise ReportError(f"{folder / 'sections.json'} names items that do not exist: {', '.join(unknown)}")
    entries = []
    for n, (key, kind, default, payload) in enumerate(found):
        over = overrides.get(key, {})
        if not isinstance(over, dict):
            raise ReportError(f"sections.json: the entry for {key!r} must be an object")
        section = str(over.get("section", default))
        listed = list(overrides).index(key) if key in overrides else len(overrides) + n
        entries.append((section, listed, payload, over.get("title"), over.get("caption"), key, kind))
    order = [str(s) for s in spec.get("order", [])]
    for section, *_ in entries:
        if section not in order:
            order.append(section)
    entries.sort(key=lambda e: (order.index(e[0]), e[1]))
    report = Report(title or str(spec.get("title") or f"musicinterp report: {folder.resolve().name}"),
                    provenance, audio_budget_mb=audio_budget_mb)
    titles = {str(k): str(v) for k, v in spec.get("titles", {}).items()}
    for section, _, payload, item_title, caption, key, kind in entries:
        if item_title is None and (kind == "tables" or (kind == "audio" and "/" in key)):
            item_title = Path(key).stem.replace("_", " ")
        report.add(payload, section=titles.get(section, section), title=item_title, caption=caption)
    return report
