"""Shuffled batches of frames streamed from a site's shards with as few copies as possible.

Each shard's bytes are read straight into the free tail of one preallocated
pool (no safetensors copy, no concatenation). When the pool holds more than
the shuffle buffer, a random subset is gathered into batches in one
``index_select``, and the kept rows that sat behind the new end move into the
holes the emitted rows left (at most one move per emitted row). Disk reads are
strictly sequential.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from .errors import StoreFormatError
from .layout import ST_DTYPES

_NAMES = {v: k for k, v in ST_DTYPES.items()}


def read_shard_into(path: Path, out: torch.Tensor, shape: tuple[int, ...], dtype: torch.dtype) -> None:
    """Read tensor ``x`` of the safetensors file ``path`` into ``out`` (contiguous), checking shape and dtype."""
    with open(path, "rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        try:
            info = json.loads(fh.read(size))["x"]
            begin, end = info["data_offsets"]
        except (ValueError, KeyError, TypeError) as err:
            raise StoreFormatError(f"{path}: field 'x' (tensor) is missing or malformed ({err})") from err
        if info.get("shape") != list(shape):
            raise StoreFormatError(f"{path}: field 'x' has shape {info.get('shape')}, expected {list(shape)}")
        if _NAMES.get(info.get("dtype")) != dtype:
            raise StoreFormatError(f"{path}: field 'x' has dtype {info.get('dtype')}, expected {ST_DTYPES[dtype]}")
        fh.seek(8 + size + begin)
        view = memoryview(out.reshape(-1).view(torch.uint8).numpy())
        if end - begin != view.nbytes or fh.readinto(view) != view.nbytes:
            raise StoreFormatError(f"{path}: field 'x' holds fewer bytes than its shape needs")


def shuffled_batches(shards: Sequence[tuple[Path, int]], row_shape: tuple[int, ...], store_dtype: torch.dtype, *,
                     batch_size: int, shuffle_buffer: int, rng: np.random.Generator, head: int | None,
                     dtype: torch.dtype, epochs: int | None) -> Iterator[torch.Tensor]:
    """Batches ``(batch_size, D)`` from ``shards`` (path, rows); ``head`` picks one head of a head site."""
    width = math.prod(row_shape)
    biggest = max((n for _, n in shards), default=0)
    capacity = shuffle_buffer + batch_size + biggest
    if epochs == 1:  # the pool never holds more than every row once: do not touch pages it will not use
        capacity = min(capacity, sum(n for _, n in shards))
    pool = torch.empty(capacity, width, dtype=store_dtype)
    n = 0

    def emit(n_out: int, n: int) -> Iterator[torch.Tensor]:
        order = torch.from_numpy(rng.permutation(n))
        chosen = order[:n_out]
        out = pool.index_select(0, chosen)
        if head is not None:
            out = out.view(n_out, *row_shape)[:, head].reshape(n_out, -1)
        out = out.to(dtype)
        for i in range(0, n_out, batch_size):
            yield out[i : i + batch_size]
        n_left = n - n_out
        kept = order[n_out:]
        movers = kept[kept >= n_left]
        if len(movers):
            holes = chosen[chosen < n_left]
            pool.index_copy_(0, holes, pool.index_select(0, movers))

    epoch = 0
    while epochs is None or epoch < epochs:
        for path, rows in shards:
            read_shard_into(path, pool[n : n + rows], (rows, *row_shape), store_dtype)
            n += rows
            if n >= shuffle_buffer + batch_size:
                n_out = ((n - shuffle_buffer) // batch_size) * batch_size
                yield from emit(n_out, n)
                n -= n_out
        epoch += 1
        if epochs is None and not shards:
            return
    n_out = (n // batch_size) * batch_size
    if n_out:
        yield from emit(n_out, n)
