"""Opening, verifying and reading a store: the pooled probe view and streaming frame batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from . import layout as LY
from .errors import StoreError, StoreIncompleteError, StoreModelMismatchError
from .stats import SiteStats


@dataclass
class ProbeView:
    """One row per clip: features ``x`` ``(N, L, ...)`` for every layer (and head), labels and groups."""

    x: torch.Tensor
    labels: dict[str, torch.Tensor]
    clip_ids: list[str]
    groups: list[str]
    splits: list[str]
    site: str
    pooling: str

    def __len__(self) -> int:
        return len(self.clip_ids)


class ActivationStore:
    """A complete, verified store. Open with :meth:`open`."""

    def __init__(self, root: Path, meta: dict[str, Any]) -> None:
        self.root = root
        self.meta = meta

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, root: str | Path, *, model: Any = None, deep_verify: bool = False) -> ActivationStore:
        """Open and verify a store; with ``model`` refuse a store from a different model."""
        root = Path(root)
        meta_path = root / LY.METADATA
        if not meta_path.is_file():
            if (root / LY.PROGRESS).is_file():
                raise StoreIncompleteError(f"{root} holds an unfinished collection; run the same collect "
                                           f"again to resume it")
            raise StoreError(f"{root} is not an activation store (no {LY.METADATA})")
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as err:
            raise StoreError(f"{meta_path} is damaged: {err}") from err
        store = cls(root, meta)
        store.verify(deep=deep_verify)
        if model is not None:
            store.check_model(model)
        return store

    def check_model(self, model: Any) -> None:
        if model.fingerprint != self.meta["model_fingerprint"]:
            raise StoreModelMismatchError(
                f"store {self.root} was collected with model {self.meta['model_id']!r} (fingerprint "
                f"{self.meta['model_fingerprint']}), not with {model.name!r} (fingerprint {model.fingerprint})")

    def verify(self, deep: bool = False) -> None:
        """Check every listed file exists with its size (and, with ``deep``, its SHA-256)."""
        for rel, info in self.meta["files"].items():
            path = self.root / rel
            if not path.is_file():
                raise StoreError(f"store {self.root} is damaged: missing file {rel}")
            if path.stat().st_size != info["bytes"]:
                raise StoreError(f"store {self.root} is damaged: {rel} has {path.stat().st_size} bytes, "
                                 f"expected {info['bytes']}")
            if deep and LY.file_digest(path) != info["sha256"]:
                raise StoreError(f"store {self.root} is damaged: {rel} fails its checksum")

    # --------------------------------------------------------------- describe
    @property
    def sites(self) -> list[str]:
        return list(self.meta["sites"])

    @property
    def n_layers(self) -> int:
        return int(self.meta["n_layers"])

    @property
    def concepts(self) -> list[str]:
        return list(self.meta["concepts"])

    def site_shape(self, site: str) -> tuple[int, ...]:
        return tuple(self.meta["site_shapes"][site])

    @cached_property
    def clips(self):
        """Per-clip table (pyarrow): id, group, split, labels, frames, rows."""
        return pq.read_table(self.root / LY.CLIPS)

    @cached_property
    def index(self):
        path = self.root / LY.INDEX
        if not path.is_file():
            raise StoreError(f"store {self.root} holds no frame rows (collected with frames='pooled')")
        return pq.read_table(path)

    def __repr__(self) -> str:
        return (f"ActivationStore({self.root}, model={self.meta['model_id']!r}, sites={self.sites}, "
                f"clips={self.meta['n_clips']}, frames={self.meta.get('n_rows', 0)})")

    # -------------------------------------------------------------- statistics
    def stats(self, site: str) -> SiteStats:
        """Running statistics of ``site`` over all layers (``(L, D)`` tensors)."""
        self._check_site(site)
        return SiteStats.from_tensors(load_file(LY.stats_path(self.root, site)))

    def _check_site(self, site: str) -> None:
        if site not in self.sites:
            raise ValueError(f"store {self.root} has no site {site!r}; it holds {', '.join(self.sites)}")

    # ------------------------------------------------------------- probe view
    def probe_view(self, site: str, pooling: str = "mean") -> ProbeView:
        """Pooled per-clip features of every layer: ``pooling`` is ``"mean"`` (over valid frames) or ``"last"``."""
        self._check_site(site)
        if pooling not in ("mean", "last"):
            raise ValueError(f"pooling must be 'mean' or 'last', got {pooling!r}")
        parts = [load_file(LY.pooled_path(self.root, site, c))[pooling] for c in range(self.meta["chunks"])]
        x = torch.cat(parts).float()
        table = self.clips
        labels = {c: torch.tensor(table.column(f"label_{c}").to_numpy(zero_copy_only=False), dtype=torch.float32)
                  for c in self.concepts}
        return ProbeView(x=x, labels=labels, clip_ids=table.column("clip_id").to_pylist(),
                         groups=table.column("group").to_pylist(), splits=table.column("split").to_pylist(),
                         site=site, pooling=pooling)

    # -------------------------------------------------------------- streaming
    def shard_files(self, site: str, layer: int) -> list[Path]:
        self._check_site(site)
        if not self.meta.get("frames_stored", True):
            raise StoreError(f"store {self.root} holds no frame shards (collected with frames='pooled')")
        return [LY.shard_path(self.root, site, layer, c) for c in range(self.meta["chunks"])]

    def read_frames(self, site: str, layer: int) -> torch.Tensor:
        """Every stored frame of one site and layer, in row order: ``(rows, ...)`` (small stores, tests)."""
        parts = []
        for path in self.shard_files(site, layer):
            with safe_open(str(path), framework="pt") as fh:
                parts.append(fh.get_tensor("x"))
        return torch.cat(parts)

    def stream(self, site: str, layer: int, batch_size: int = 1024, *, shuffle_buffer: int = 16384,
               seed: int = 0, head: int | None = None, dtype: torch.dtype = torch.float32,
               epochs: int | None = 1) -> Iterator[torch.Tensor]:
        """Batches ``(batch_size, D)`` of frames at one site and layer.

        Shards are read sequentially (memory-mapped); rows pass through a shuffle
        buffer, so no random reads hit the disk. Head sites are flattened to
        ``H * head_dim`` unless ``head`` picks one head. ``epochs=None`` repeats
        forever (what an SAE trainer wants). A last partial batch is dropped.
        """
        files = self.shard_files(site, layer)
        rng = np.random.default_rng(seed)
        buffer: list[torch.Tensor] = []
        buffered = 0
        epoch = 0
        while epochs is None or epoch < epochs:
            for path in files:
                with safe_open(str(path), framework="pt") as fh:
                    x = fh.get_tensor("x")
                if head is not None:
                    x = x[:, head]
                x = x.reshape(x.shape[0], -1).to(dtype)
                buffer.append(x)
                buffered += x.shape[0]
                while buffered >= shuffle_buffer + batch_size or (buffered >= batch_size and shuffle_buffer == 0):
                    yield from self._drain(buffer, rng, batch_size, keep=shuffle_buffer)
                    buffered = sum(b.shape[0] for b in buffer)
            epoch += 1
        pool = torch.cat(buffer) if buffer else torch.empty(0)
        order = torch.from_numpy(rng.permutation(pool.shape[0]))
        for i in range(0, pool.shape[0] - batch_size + 1, batch_size):
            yield pool[order[i : i + batch_size]]

    @staticmethod
    def _drain(buffer: list[torch.Tensor], rng: np.random.Generator, batch_size: int, keep: int
               ) -> Iterator[torch.Tensor]:
        pool = torch.cat(buffer)
        order = torch.from_numpy(rng.permutation(pool.shape[0]))
        n_out = ((pool.shape[0] - keep) // batch_size) * batch_size
        for i in range(0, n_out, batch_size):
            yield pool[order[i : i + batch_size]]
        buffer.clear()
        buffer.append(pool[order[n_out:]])

