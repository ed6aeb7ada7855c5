"""Streaming, resumable store writes.

Clips are written in chunks planned up front (so chunk boundaries never depend
on timing). Each chunk's files are written atomically and hashed as they are
written; a chunk record (``chunks/<name>.json``) written last commits the chunk.
A collection killed at any point resumes from its committed chunks and produces
the same files as an uninterrupted one. Several processes may write chunks of
one store (each names its files with its rank); one of them finalizes it:
statistics merged (parallel Welford), row index and clip table written,
metadata listing every file with its size and SHA-256.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from . import layout as LY
from . import tensorfile as TF
from .errors import StoreFormatError, StoreIncompleteError, StoreNonFiniteError
from .folder import read_json
from .stats import SiteStats


@dataclass
class Chunk:
    """What one chunk of clips contributes to a store."""

    index: int  # global chunk number (the same whatever the number of processes)
    frames: dict[str, list[torch.Tensor]]  # site -> one (rows, *site_shape) tensor per layer; {} if pooled only
    pooled: dict[str, dict[str, torch.Tensor]]  # site -> {"mean": (clips, L, ...), "last": (clips, L, ...)}
    row_labels: dict[str, torch.Tensor]  # binary labels of the rows the statistics are over
    rows: pa.Table | None  # this chunk's frame rows (None when frames are not stored)
    clips: list[dict[str, Any]]  # one row per kept clip
    skipped: list[dict[str, str]] = field(default_factory=list)
    stats: dict[str, SiteStats] | None = None  # per site; computed by :func:`chunk_stats` when None

    def with_stats(self) -> Chunk:
        """This chunk with its statistics computed (call it on the thread that built the chunk)."""
        if self.stats is None:
            self.stats = chunk_stats(self)
        return self


def chunk_stats(chunk: Chunk) -> dict[str, SiteStats]:
    """Statistics of a chunk's rows per site: its frames, or its pooled means when frames are not stored."""
    out = {}
    for site, views in chunk.pooled.items():
        if chunk.frames:
            rows = chunk.frames[site]
        else:  # pooled-only stores keep statistics of the pooled means
            rows = [views["mean"][:, i] for i in range(views["mean"].shape[1])]
        out[site] = SiteStats.of_layers(rows, chunk.row_labels)
    return out


class StoreWriter:
    """Writes chunks of one store as process ``rank``; ``config`` is the collection request."""

    def __init__(self, root: str | Path, config: dict[str, Any], *, rank: int = 0) -> None:
        self.root = Path(root)
        self.config = config
        self.rank = rank

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def committed(self) -> dict[int, dict[str, Any]]:
        """Records of the chunks already committed (by any process), by chunk number."""
        out: dict[int, dict[str, Any]] = {}
        folder = self.root / "chunks"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            rec = read_json(path)
            if not (isinstance(rec, dict) and isinstance(rec.get("index"), int) and "files" in rec):
                raise StoreFormatError(f"{path}: field 'index' or 'files' is missing; delete it to redo the chunk")
            out[rec["index"]] = rec
        return out

    def write(self, chunk: Chunk) -> dict[str, Any]:
        """Write every file of ``chunk``, then its record; return the record.

        Refuses (:class:`StoreNonFiniteError`) a chunk whose statistics or pooled views hold NaN or
        inf, before writing anything: the statistics cover every stored frame, so a value that
        overflowed the store dtype (float16) is caught here rather than when a method is fitted.
        """
        name = LY.chunk_name(self.rank, chunk.index)
        stats = chunk.stats if chunk.stats is not None else chunk_stats(chunk)
        self._check_finite(name, stats, chunk.pooled)
        files: dict[str, dict[str, Any]] = {}
        for site, layers in chunk.frames.items():
            for layer, x in enumerate(layers):
                path = LY.shard_path(self.root, site, layer, name)
                files[self._rel(path)] = LY.atomic_save_tensors(path, {"x": x}).to_json()
        for site, views in chunk.pooled.items():
            path = LY.pooled_path(self.root, site, name)
            files[self._rel(path)] = LY.atomic_save_tensors(path, views).to_json()
            LY.atomic_save_tensors(LY.stats_part_path(self.root, site, name), stats[site].to_tensors())
        n_rows = 0
        if chunk.rows is not None:
            LY.atomic_write_parquet(LY.chunk_rows_path(self.root, name), chunk.rows)
            n_rows = chunk.rows.num_rows
        record = {"index": chunk.index, "name": name, "rank": self.rank, "n_clips": len(chunk.clips),
                  "n_rows": n_rows, "clips": chunk.clips, "skipped": chunk.skipped, "files": files}
        LY.atomic_write_json(LY.chunk_record_path(self.root, name), record)
        return record

    def _check_finite(self, name: str, stats: dict[str, SiteStats], pooled: dict[str, dict[str, torch.Tensor]]
                      ) -> None:
        where = f"{self.root}: chunk {name}"
        for site, st in stats.items():
            for key, t in st.to_tensors().items():
                TF.check_finite(f"{where}, site {site} statistics", key, t, StoreNonFiniteError)
        for site, views in pooled.items():
            for key, t in views.items():
                TF.check_finite(f"{where}, site {site} pooled", key, t, StoreNonFiniteError)

    def finalize(self, n_chunks: int, extra: dict[str, Any],
                 check_clips: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """Merge every committed chunk into a complete store (one process only)."""
        records = self.committed()
        missing = [c for c in range(n_chunks) if c not in records]
        if missing:
            raise StoreIncompleteError(f"{self.root}: chunks {missing[:8]} were never committed (a process "
                                       f"stopped early?); run the same collection again to finish them")
        ordered = [records[c] for c in range(n_chunks)]
        clip_rows: list[dict[str, Any]] = []
        first = 0
        for rec in ordered:
            for row in rec["clips"]:
                clip_rows.append({**row, "first_row": first})
                first += row["n_rows"]
        if check_clips is not None:
            check_clips(clip_rows)
        files = {rel: info for rec in ordered for rel, info in rec["files"].items()}
        for site in self.config["sites"]:
            merged = SiteStats()
            for rec in ordered:
                part = TF.read_tensors(LY.stats_part_path(self.root, site, rec["name"]), StoreFormatError,
                                       nonfinite_error=StoreNonFiniteError)
                merged = merged.merge(SiteStats.from_tensors(part))
            path = LY.stats_path(self.root, site)
            files[self._rel(path)] = LY.atomic_save_tensors(path, merged.to_tensors()).to_json()
        if self.config["frames_stored"]:
            files[LY.INDEX] = self._write_index(ordered).to_json()
        files[LY.CLIPS] = LY.atomic_write_parquet(self.root / LY.CLIPS, pa.Table.from_pylist(clip_rows)).to_json()
        meta = {**extra, **self.config, "format_version": LY.FORMAT_VERSION, "status": "complete",
                "chunks": [{"name": r["name"], "n_clips": r["n_clips"], "n_rows": r["n_rows"]} for r in ordered],
                "n_rows": sum(r["n_rows"] for r in ordered), "n_clips_kept": len(clip_rows),
                "skipped": [s for r in ordered for s in r["skipped"]], "files": dict(sorted(files.items()))}
        LY.atomic_write_json(self.root / LY.METADATA, meta)
        self._clean()

    def _write_index(self, ordered: list[dict[str, Any]]) -> LY.FileRecord:
        """Concatenate the chunks' row tables into one Parquet file, one chunk in memory at a time."""
        paths = [LY.chunk_rows_path(self.root, r["name"]) for r in ordered if r["n_rows"]]

        def write(out) -> None:
            if not paths:
                pq.write_table(pa.table({"clip_index": pa.array([], pa.int64())}), pa.PythonFile(out, mode="w"))
                return
            writer = None
            for path in paths:
                table = pq.read_table(path)
                if writer is None:
                    writer = pq.ParquetWriter(pa.PythonFile(out, mode="w"), table.schema)
                writer.write_table(table)
            writer.close()

        return LY.atomic_write(self.root / LY.INDEX, write)

    def _clean(self) -> None:
        """Drop the per-chunk scaffolding, temporaries left by crashes, and the journal."""
        for folder in ("rows", "stats_parts", "chunks"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
        for path in list(self.root.rglob(".*.tmp")):
            path.unlink(missing_ok=True)
        (self.root / LY.PROGRESS).unlink(missing_ok=True)
