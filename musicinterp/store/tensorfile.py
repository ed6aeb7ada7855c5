"""Reading safetensors files strictly: nothing reaches the library, or the caller, unchecked.

Before a file's bytes are trusted:

* the 8-byte header length is checked against the file's size (a damaged
  length would otherwise make a reader allocate whatever it says);
* the header's JSON must list known dtypes, shapes of non-negative integers and
  data offsets that tile the data exactly (no gap, overlap or missing byte);
* the bytes are compared with the checksum written with the file (when the
  caller has one: a store's Fletcher-64, an artifact's SHA-256; :mod:`.checksum`);
* floating tensors must hold no NaN or inf.

Each failure is raised as the caller's error class (a ``MusicInterpError``)
with a message that names the file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import torch

from .checksum import Checksum, damaged, hasher, verify_bytes

__all__ = ["Checksum", "Verified", "check_finite", "damaged", "hasher", "header_length", "parse_header",
           "read_header", "read_tensors", "verify_bytes"]

ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
MAX_HEADER = 100_000_000  # bytes of header JSON; the files this package writes hold a few KB
MakeError = Callable[[str], Exception]


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def header_length(path: Path, head: bytes, size: int, error: MakeError) -> int:
    """The header length field of a file of ``size`` bytes whose first bytes are ``head``, checked."""
    if len(head) < 8:
        raise error(f"{path}: {size} bytes is too short for a safetensors file (no header length)")
    n = int.from_bytes(head[:8], "little")
    if n < 2 or n > MAX_HEADER or 8 + n > size:
        raise error(f"{path}: not a readable safetensors file: its header length field says {n} bytes, "
                    f"the file holds {size}")
    return n


def parse_header(path: Path, blob: bytes, data_bytes: int, error: MakeError) -> dict[str, dict[str, Any]]:
    """The tensors ``{name: {dtype, shape, data_offsets}}`` of a header, checked against ``data_bytes``."""
    try:
        header = json.loads(blob)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise error(f"{path}: header is not valid JSON ({err})") from err
    if not isinstance(header, dict):
        raise error(f"{path}: header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise error(f"{path}: header field '__metadata__' must map names to strings")
    spans = []
    for name, info in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict):
            raise error(f"{where} is not described by an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in ITEMSIZE:
            raise error(f"{where} has dtype {dtype!r}, not one of {', '.join(ITEMSIZE)}")
        if not (isinstance(shape, list) and len(shape) <= 16 and all(_count(d) for d in shape)):
            raise error(f"{where} has shape {shape!r}, not a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(o) for o in offsets)
                and offsets[0] <= offsets[1]):
            raise error(f"{where} has data_offsets {offsets!r}, not [begin, end]")
        need = math.prod(shape) * ITEMSIZE[dtype]
        if offsets[1] - offsets[0] != need:
            raise error(f"{where} spans {offsets[1] - offsets[0]} bytes; its shape and dtype need {need}")
        spans.append((offsets[0], offsets[1], name))
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise error(f"{path}: tensor {name!r} starts at byte {begin} of the data, expected {pos}")
        pos = end
    if pos > data_bytes:
        raise error(f"{path}: its header lists {pos} bytes of tensor data; the file holds fewer bytes ({data_bytes})")
    if pos < data_bytes:
        raise error(f"{path}: holds {data_bytes - pos} bytes after its last tensor")
    return header


def read_header(path: Path, error: MakeError) -> dict[str, dict[str, Any]]:
    """The checked tensor header of a safetensors file, reading only the header."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            n = header_length(path, head, size, error)
            return parse_header(path, fh.read(n), size - 8 - n, error)
    except OSError as err:
        raise error(f"{path}: cannot be read ({err})") from err


def read_tensors(path: Path, error: MakeError, *, checksum: Checksum | None = None,
                 checksum_error: MakeError | None = None, nonfinite_error: MakeError | None = None,
                 may_be_nonfinite: Collection[str] = ()) -> dict[str, torch.Tensor]:
    """Every tensor of a (small) safetensors file, after the checks in the module docstring.

    ``checksum``: ``(algorithm, digest)`` written with the file (``None``: not checked); a mismatch
    raises ``checksum_error``, non-finite values ``nonfinite_error`` (both default to ``error``),
    except in the tensors named in ``may_be_nonfinite``.
    """
    from safetensors.torch import load

    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise error(f"{path}: cannot be read ({err})") from err
    verify_bytes(path, data, checksum, checksum_error or error)
    n = header_length(path, data[:8], len(data), error)
    header = parse_header(path, data[8 : 8 + n], len(data) - 8 - n, error)
    try:
        tensors = load(data)
    except Exception as err:  # the library's own errors; the checks above should leave none
        raise error(f"{path}: not a readable safetensors file ({err})") from err
    if set(tensors) != set(header):
        raise error(f"{path}: not a readable safetensors file (tensors {sorted(tensors)} read, header lists "
                    f"{sorted(header)})")
    for name, t in tensors.items():
        if name not in may_be_nonfinite:
            check_finite(path, name, t, nonfinite_error or error)
    return tensors


def check_finite(path: Path | str, name: str, t: torch.Tensor, error: MakeError) -> None:
    """Raise ``error`` naming the file and tensor when a floating tensor holds NaN or inf."""
    if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise error(f"{path}: tensor {name!r} holds {bad} NaN or inf values")


class Verified:
    """Which files of a store were checked against their checksum since it was opened.

    Each file is hashed once, when first read; ``files`` is the store's
    ``metadata.json`` listing ``{relative path: {bytes, sha256, fletcher64}}`` (stores
    written before Fletcher-64 sums were recorded are checked against their SHA-256).
    """

    def __init__(self, root: Path, files: dict[str, dict[str, Any]]) -> None:
        self.root = root
        self.files = files
        self.done: set[str] = set()

    def _rel(self, path: Path) -> str:
        return Path(path).relative_to(self.root).as_posix()

    def expected(self, path: Path) -> Checksum | None:
        """The checksum to check ``path`` against, or ``None`` once it has been checked."""
        rel = self._rel(path)
        if rel in self.done:
            return None
        info = self.files[rel]
        for algorithm in ("fletcher64", "crc32", "sha256"):  # the fastest one the store recorded
            if algorithm in info:
                return algorithm, info[algorithm]
        raise KeyError(f"no checksum recorded for {rel}")

    def mark(self, path: Path) -> None:
        self.done.add(self._rel(path))
