"""Frames of one site and layer in the store's row order, one shard at a time (sequential reads).

Training streams shuffled batches (:meth:`ActivationStore.stream`); evaluation
and feature analysis need to know which clip each frame belongs to, so they
walk the shards in order. Memory stays at one shard.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch


def ordered_frames(store: Any, site: str, layer: int, head: int | None = None, *, every: int = 1
                   ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(rows, x)`` per shard: global row numbers ``(n,)`` and frames ``(n, d_in)``; ``every`` subsamples."""
    offset = 0
    for x in store.shards(site, layer):  # each shard checked against its checksum on its first read
        n = x.shape[0]
        keep = torch.arange((-offset) % every, n, every)
        x = x[keep]
        if head is not None:
            x = x[:, head]
        yield keep + offset, x.reshape(x.shape[0], -1).float()
        offset += n


def stride_for(store: Any, n_frames: int | None) -> int:
    """Subsampling step that keeps about ``n_frames`` of the store's rows (1 keeps all)."""
    total = int(store.meta.get("n_rows", 0))
    if n_frames is None or total <= n_frames:
        return 1
    return math.ceil(total / n_frames)


def row_clips(store: Any) -> torch.Tensor:
    """The clip (position in the store's clip table) of every frame row ``(n_rows,)``."""
    rows = torch.tensor(store.clips.column("n_rows").to_pylist(), dtype=torch.long)
    return torch.repeat_interleave(torch.arange(rows.numel()), rows)
