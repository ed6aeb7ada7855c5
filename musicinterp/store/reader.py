"""Opening, verifying and reading a store: the pooled probe view and streaming frame batches."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..errors import InputError
from . import layout as LY
from . import schema as SC
from . import tensorfile as TF
from .errors import (
    StoreChecksumError,
    StoreError,
    StoreFormatError,
    StoreIncompleteError,
    StoreModelMismatchError,
    StoreNonFiniteError,
)
from .folder import read_json
from .stats import SiteStats
from .streaming import read_shard_into, shuffled_batches


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

    def __repr__(self) -> str:
        return (f"ProbeView(site={self.site!r}, pooling={self.pooling!r}, clips={len(self)}, "
                f"x={tuple(self.x.shape)}, concepts={sorted(self.labels)})")


class ActivationStore:
    """A complete, verified store. Open with :meth:`open`.

    Opening checks every file's presence and size and every table's and tensor header's
    shape; each file is also checked against the Fletcher-64 sum written with it the
    first time it is read after opening (shards as they stream, pooled views and
    statistics as they load), and floating tensors read for fitting must be finite.
    """

    def __init__(self, root: Path, meta: dict[str, Any]) -> None:
        self.root = root
        self.meta = meta
        self.verified = TF.Verified(root, meta["files"])

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, root: str | Path, *, model: Any = None, deep_verify: bool = False) -> ActivationStore:
        """Open and verify a store; with ``model`` refuse a store from a different model.

        Malformed metadata, tables or tensor headers raise :class:`StoreFormatError`
        naming the file and field; missing or resized files :class:`StoreError`.
        """
        root = Path(root)
        meta_path = root / LY.METADATA
        if not meta_path.is_file():
            if (root / LY.PROGRESS).is_file():
                raise StoreIncompleteError(f"{root} holds an unfinished collection; run the same collect "
                                           f"again to resume it")
            raise StoreError(f"{root} is not an activation store (no {LY.METADATA})")
        meta = read_json(meta_path)
        SC.check_metadata(meta, meta_path)
        store = cls(root, meta)
        store.verify(deep=deep_verify)
        store._check_tables()
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
        if deep:  # every file was just hashed: the first reads need not hash them again
            self.verified.done.update(self.meta["files"])

    def _check_tables(self) -> None:
        """Column names, types and row counts of the tables; shapes of the pooled and statistics tensors."""
        self._check_parquet(self.root / LY.CLIPS, self.meta["n_clips_kept"], SC.clip_columns(self.concepts))
        if self.meta["frames_stored"]:
            self._check_parquet(self.root / LY.INDEX, self.meta["n_rows"], SC.index_columns(self.concepts))
        for site in self.sites:
            shape, width = self.site_shape(site), int(np.prod(self.site_shape(site)))
            for ch in self.meta["chunks"]:
                want = [ch["n_clips"], self.n_layers, *shape]
                self._check_header(LY.pooled_path(self.root, site, ch["name"]), {"mean": want, "last": want})
            self._check_header(LY.stats_path(self.root, site),
                               {"count": [1], "mean": [self.n_layers, width], "m2": [self.n_layers, width]})

    def _check_parquet(self, path: Path, want_rows: int, columns: dict[str, tuple[str, ...]]) -> None:
        try:
            meta = pq.ParquetFile(path).metadata
            schema = meta.schema.to_arrow_schema()
        except Exception as err:  # pyarrow raises several types for damaged files
            raise StoreFormatError(f"{path}: not a readable Parquet table ({err})") from err
        SC.check_table(path, schema, meta.num_rows, want_rows, columns)

    def _check_header(self, path: Path, want: dict[str, list[int]]) -> None:
        header = TF.read_header(path, StoreFormatError)
        SC.check_header(path, header, {k: (v, None) for k, v in want.items()})

    def _read_tensors(self, path: Path) -> dict[str, torch.Tensor]:
        """A small tensor file of the store, checked (checksum once per open, header, finite values)."""
        out = TF.read_tensors(path, StoreFormatError, checksum=self.verified.expected(path),
                              checksum_error=StoreChecksumError, nonfinite_error=StoreNonFiniteError)
        self.verified.mark(path)
        return out

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

    @property
    def chunk_names(self) -> list[str]:
        return [c["name"] for c in self.meta["chunks"]]

    @property
    def nbytes(self) -> int:
        """Size on disk of the store's files."""
        return sum(int(f["bytes"]) for f in self.meta["files"].values())

    def site_shape(self, site: str) -> tuple[int, ...]:
        return tuple(self.meta["site_shapes"][site])

    @cached_property
    def clips(self):
        """Per-clip table (pyarrow): id, group, split, labels, frames, rows."""
        return self._read_table(self.root / LY.CLIPS)

    @cached_property
    def index(self):
        """Per-frame-row table (pyarrow): clip, position, split, branch, labels."""
        if not self.meta["frames_stored"]:
            raise StoreError(f"store {self.root} holds no frame rows (collected with frames='pooled')")
        return self._read_table(self.root / LY.INDEX)

    def _read_table(self, path: Path):
        """A Parquet table of the store, its bytes checked against their checksum (once per open)."""
        try:
            data = path.read_bytes()
        except OSError as err:
            raise StoreError(f"store {self.root} is damaged: cannot read {path.name} ({err})") from err
        TF.verify_bytes(path, data, self.verified.expected(path), StoreChecksumError)
        try:
            table = pq.read_table(pa.BufferReader(data))
        except Exception as err:  # pyarrow raises several types for damaged files
            raise StoreFormatError(f"{path}: not a readable Parquet table ({err})") from err
        self.verified.mark(path)
        return table

    def _summary(self) -> dict[str, str]:
        sites = ", ".join(f"{s} {self.n_layers}x{tuple(self.site_shape(s))}" for s in self.sites)
        frames = self.meta["frames"] if isinstance(self.meta["frames"], str) else tuple(self.meta["frames"])
        return {"path": str(self.root), "model": f"{self.meta['model_id']} ({self.meta['model_fingerprint']})",
                "clips": f"{self.meta['n_clips_kept']} ({self.meta['n_rows']} frame rows, frames={frames!r}, "
                         f"{self.meta['branch']} rows)",
                "sites": sites, "dtype": self.meta["dtype"], "size": _human(self.nbytes)}

    def __repr__(self) -> str:
        s = self._summary()
        return (f"ActivationStore({s['path']!r})\n  model: {s['model']}\n  clips: {s['clips']}\n"
                f"  sites: {s['sites']}\n  dtype: {s['dtype']}, {s['size']} on disk")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
                       for k, v in self._summary().items())
        return f"<table><caption>ActivationStore</caption>{rows}</table>"

    # -------------------------------------------------------------- statistics
    def stats(self, site: str) -> SiteStats:
        """Running statistics of ``site`` over all layers (``(L, D)`` tensors)."""
        self._check_site(site)
        path = LY.stats_path(self.root, site)
        try:
            return SiteStats.from_tensors(self._read_tensors(path))
        except (KeyError, ValueError, IndexError) as err:
            raise StoreFormatError(f"{path}: malformed statistics ({err})") from err

    def _check_site(self, site: str) -> None:
        if site not in self.sites:
            raise InputError(f"store {self.root} has no site {site!r}; it holds {', '.join(self.sites)}")

    # ------------------------------------------------------------- probe view
    def probe_view(self, site: str, pooling: str = "mean") -> ProbeView:
        """Pooled per-clip features of every layer: ``pooling`` is ``"mean"`` (over valid frames) or ``"last"``."""
        self._check_site(site)
        if pooling not in ("mean", "last"):
            raise InputError(f"pooling must be 'mean' or 'last', got {pooling!r}")
        parts = [self._read_tensors(LY.pooled_path(self.root, site, c))[pooling] for c in self.chunk_names]
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
        if not self.meta["frames_stored"]:
            raise StoreError(f"store {self.root} holds no frame shards (collected with frames='pooled')")
        if not 0 <= layer < self.n_layers:
            raise InputError(f"layer {layer} out of range: store {self.root} has {self.n_layers} layers")
        return [LY.shard_path(self.root, site, layer, c) for c in self.chunk_names]

    def _load_shard(self, path: Path, n_rows: int, site: str) -> torch.Tensor:
        shape = (n_rows, *self.site_shape(site))
        x = torch.empty(shape, dtype=getattr(torch, self.meta["dtype"]))
        read_shard_into(path, x, shape, x.dtype, self.verified.expected(path))
        self.verified.mark(path)
        return x

    def shards(self, site: str, layer: int) -> Iterator[torch.Tensor]:
        """The frames of one site and layer shard by shard, in row order (each checked as it is read)."""
        for path, ch in zip(self.shard_files(site, layer), self.meta["chunks"], strict=True):
            yield self._load_shard(path, ch["n_rows"], site)

    def read_frames(self, site: str, layer: int) -> torch.Tensor:
        """Every stored frame of one site and layer, in row order: ``(rows, ...)`` (small stores, tests)."""
        return torch.cat(list(self.shards(site, layer)))

    def stream(self, site: str, layer: int, batch_size: int = 1024, *, shuffle_buffer: int = 16384,
               seed: int = 0, head: int | None = None, dtype: torch.dtype = torch.float32,
               epochs: int | None = 1) -> Iterator[torch.Tensor]:
        """Batches ``(batch_size, D)`` of frames at one site and layer.

        Shards are read sequentially, straight into a shuffle buffer of
        ``shuffle_buffer`` rows, so no random reads hit the disk. Head sites are flattened to ``H * head_dim``
        unless ``head`` picks one head. ``epochs=None`` repeats forever (what an
        SAE trainer wants). A last partial batch is dropped.
        """
        files = self.shard_files(site, layer)
        shards = [(path, ch["n_rows"]) for path, ch in zip(files, self.meta["chunks"], strict=True)]
        store_dtype = getattr(torch, self.meta["dtype"])
        yield from shuffled_batches(shards, self.site_shape(site), store_dtype, batch_size=batch_size,
                                    shuffle_buffer=shuffle_buffer, rng=np.random.default_rng(seed), head=head,
                                    dtype=dtype, epochs=epochs, verified=self.verified)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
