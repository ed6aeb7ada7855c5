"""Streaming, resumable store writes.

Clips are written in chunks of a fixed number of clips (planned up front from
the memory budget, so chunk boundaries never depend on timing). Every file of
a chunk is written atomically, then the progress journal records the chunk as
done. A collection killed at any point resumes from the last recorded chunk
and produces the same files as an uninterrupted one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from safetensors.torch import load_file

from . import layout as LY
from .errors import StoreError, StoreModelMismatchError
from .stats import SiteStats


class StoreWriter:
    """Writes one store; ``config`` fixes everything that must match to resume."""

    def __init__(self, root: str | Path, config: dict[str, Any], *, overwrite: bool = False) -> None:
        self.root = Path(root)
        self.config = config
        self.chunks_done = 0
        self.skipped: list[dict[str, str]] = []
        progress = self.root / LY.PROGRESS
        if self.root.exists() and any(self.root.iterdir()):
            if overwrite:
                shutil.rmtree(self.root)
            elif progress.is_file():
                state = json.loads(progress.read_text())
                self._check_same(state["config"])
                self.chunks_done = int(state["chunks_done"])
                self.skipped = list(state.get("skipped", []))
            elif (self.root / LY.METADATA).is_file():
                raise StoreError(f"{self.root} already holds a complete store; open it with "
                                 f"ActivationStore.open or pass overwrite=True")
            else:
                raise StoreError(f"{self.root} exists and is not a store; choose an empty folder")
        self.root.mkdir(parents=True, exist_ok=True)
        self._journal()

    def _check_same(self, old: dict[str, Any]) -> None:
        if old.get("model_fingerprint") != self.config["model_fingerprint"]:
            raise StoreModelMismatchError(
                f"{self.root} holds an unfinished collection from model {old.get('model_id')!r} "
                f"(fingerprint {old.get('model_fingerprint')}); this model is {self.config['model_id']!r} "
                f"(fingerprint {self.config['model_fingerprint']}). Use another folder or overwrite=True.")
        diff = sorted(k for k in set(old) | set(self.config) if old.get(k) != self.config.get(k))
        if diff:
            raise StoreError(f"{self.root} holds an unfinished collection with different settings "
                             f"({', '.join(diff)}); use another folder or overwrite=True")

    def _journal(self) -> None:
        LY.atomic_write_json(self.root / LY.PROGRESS, {"config": self.config, "chunks_done": self.chunks_done,
                                                       "skipped": self.skipped})

    def write_chunk(self, chunk: int, frames: dict[str, torch.Tensor], pooled: dict[str, dict[str, torch.Tensor]],
                    rows: pa.Table, stats: dict[str, SiteStats], skipped: list[dict[str, str]]) -> None:
        """Write chunk ``chunk``: frame shards ``{site: (rows, L, ...)}``, pooled views, row table, stats."""
        if chunk != self.chunks_done:
            raise StoreError(f"chunk {chunk} written out of order (next is {self.chunks_done})")
        for site, x in frames.items():
            for layer in range(x.shape[1]):
                LY.atomic_save_tensors(LY.shard_path(self.root, site, layer, chunk), {"x": x[:, layer]})
        for site, views in pooled.items():
            LY.atomic_save_tensors(LY.pooled_path(self.root, site, chunk), views)
        for site, st in stats.items():
            LY.atomic_save_tensors(LY.stats_part_path(self.root, site, chunk), st.to_tensors())
        LY.atomic_write_parquet(LY.chunk_rows_path(self.root, chunk), rows)
        self.skipped.extend(skipped)
        self.chunks_done = chunk + 1
        self._journal()

    def finalize(self, clips: pa.Table, metadata: dict[str, Any]) -> None:
        """Merge statistics, write the index and metadata with file sizes and digests; drop the journal."""
        n = self.chunks_done
        for site in self.config["sites"]:
            merged = SiteStats()
            for chunk in range(n):
                merged = merged.merge(SiteStats.from_tensors(load_file(LY.stats_part_path(self.root, site, chunk))))
            LY.atomic_save_tensors(LY.stats_path(self.root, site), merged.to_tensors())
        tables = [pq.read_table(LY.chunk_rows_path(self.root, c)) for c in range(n)]
        index = pa.concat_tables(tables) if tables else None
        if index is not None:
            LY.atomic_write_parquet(self.root / LY.INDEX, index)
        LY.atomic_write_parquet(self.root / LY.CLIPS, clips)
        shutil.rmtree(self.root / "rows", ignore_errors=True)
        shutil.rmtree(self.root / "stats_parts", ignore_errors=True)
        files = {}
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and p.name not in (LY.PROGRESS,)):
            if path.name.startswith("."):
                path.unlink()  # a temporary left by a crash
                continue
            rel = str(path.relative_to(self.root))
            files[rel] = {"bytes": path.stat().st_size, "sha256": LY.file_digest(path)}
        meta = {**metadata, **self.config, "format_version": LY.FORMAT_VERSION, "status": "complete",
                "chunks": n, "skipped": self.skipped, "files": files}
        LY.atomic_write_json(self.root / LY.METADATA, meta)
        (self.root / LY.PROGRESS).unlink(missing_ok=True)
