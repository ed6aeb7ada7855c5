"""Shuffled batches of frames streamed from a site's shards with as few copies as possible.

Each shard's bytes are read straight into the free tail of one preallocated
pool (no safetensors copy, no concatenation). When the pool holds more than
the shuffle buffer, a random subset is gathered into batches in one
``index_select``, and the kept rows that sat behind the new end move into the
holes the emitted rows left (at most one move per emitted row). Disk reads are
strictly sequential. The first time a shard is read after the store was opened,
its bytes are hashed block by block as they arrive and compared with the
Fletcher-64 sum written with it (:mod:`.checksum`) before any of its rows leave
the pool.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from . import checksum as CK
from . import tensorfile as TF
from .errors import StoreChecksumError, StoreFormatError
from .layout import ST_DTYPES

_NAMES = {v: k for k, v in ST_DTYPES.items()}


def read_shard_into(path: Path, out: torch.Tensor, shape: tuple[int, ...], dtype: torch.dtype,
                    checksum: CK.Checksum | None = None) -> None:
    """Read tensor ``x`` of the safetensors file ``path`` into ``out`` (contiguous), checking shape and dtype.

    With ``checksum`` (algorithm, digest) the file's bytes are hashed as they arrive and compared
    with it before ``out`` is handed on: a mismatch raises :class:`StoreChecksumError`.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(8)
        n = TF.header_length(path, head, size, StoreFormatError)
        blob = fh.read(n)
        header = TF.parse_header(path, blob, size - 8 - n, StoreFormatError)
        info = header.get("x")
        if info is None:
            raise StoreFormatError(f"{path}: field 'x' (tensor) is missing")
        if info["shape"] != list(shape):
            raise StoreFormatError(f"{path}: field 'x' has shape {info['shape']}, expected {list(shape)}")
        if _NAMES.get(info["dtype"]) != dtype:
            raise StoreFormatError(f"{path}: field 'x' has dtype {info['dtype']}, expected {ST_DTYPES[dtype]}")
        if len(header) != 1:
            raise StoreFormatError(f"{path}: holds tensors {sorted(header)}; a shard holds 'x' only")
        hasher = None
        if checksum is not None:
            hasher = CK.hasher(checksum[0])
            hasher.update(head)
            hasher.update(blob)
        view = memoryview(out.reshape(-1).view(torch.uint8).numpy())
        _read_blocks(fh, view, hasher, path)
    if hasher is not None and hasher.hexdigest() != checksum[1]:
        raise StoreChecksumError(CK.damaged(path, checksum[0]))


BLOCK = 4 << 20  # bytes read (and hashed) at a time: a single read is capped near 2 GB on Linux


def _read_blocks(fh, view: memoryview, hasher, path: Path) -> None:
    """Fill ``view`` from ``fh`` block by block, hashing each block while it is still in the cache."""
    for start in range(0, view.nbytes, BLOCK):
        block = view[start : start + BLOCK]
        if fh.readinto(block) != block.nbytes:
            raise StoreFormatError(f"{path}: field 'x' holds fewer bytes than its shape needs")
        if hasher is not None:
            hasher.update(block)


def shuffled_batches(shards: Sequence[tuple[Path, int]], row_shape: tuple[int, ...], store_dtype: torch.dtype, *,
                     batch_size: int, shuffle_buffer: int, rng: np.random.Generator, head: int | None,
                     dtype: torch.dtype, epochs: int | None, verified: TF.Verified | None = None
                     ) -> Iterator[torch.Tensor]:
    """Batches ``(batch_size, D)`` from ``shards`` (path, rows); ``head`` picks one head of a head site.

    With ``verified`` each shard is checked against its recorded checksum the first time it is read.
    """
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
            check = verified.expected(path) if verified is not None else None
            read_shard_into(path, pool[n : n + rows], (rows, *row_shape), store_dtype, check)
            if check is not None:
                verified.mark(path)
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
