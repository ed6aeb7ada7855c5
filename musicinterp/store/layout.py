"""Where things live inside a store folder, and atomic file writes."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

METADATA = "metadata.json"
PROGRESS = "progress.json"
INDEX = "index.parquet"
CLIPS = "clips.parquet"
FORMAT_VERSION = 1


def shard_path(root: Path, site: str, layer: int, chunk: int) -> Path:
    """Layer-major frame shards: one file per (site, layer, chunk of clips)."""
    return root / "shards" / site / f"L{layer:03d}" / f"{chunk:05d}.safetensors"


def pooled_path(root: Path, site: str, chunk: int) -> Path:
    """Per-clip pooled features (mean over valid frames, last valid frame), all layers."""
    return root / "pooled" / site / f"{chunk:05d}.safetensors"


def stats_part_path(root: Path, site: str, chunk: int) -> Path:
    return root / "stats_parts" / site / f"{chunk:05d}.safetensors"


def stats_path(root: Path, site: str) -> Path:
    return root / "stats" / f"{site}.safetensors"


def chunk_rows_path(root: Path, chunk: int) -> Path:
    return root / "rows" / f"{chunk:05d}.parquet"


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
                        ) -> None:
    _atomic(path, lambda tmp: save_file({k: v.contiguous() for k, v in tensors.items()}, tmp, metadata=metadata))


def atomic_write_json(path: Path, obj: Any) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(obj, indent=2, sort_keys=True))

    _atomic(path, write)


def atomic_write_parquet(path: Path, table) -> None:
    import pyarrow.parquet as pq

    _atomic(path, lambda tmp: pq.write_table(table, tmp))


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
