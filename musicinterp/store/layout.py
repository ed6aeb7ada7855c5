"""Where things live inside a store folder, and atomic, self-hashing file writes.

Every file is written to a temporary name, fsync'd and renamed into place, so a
crash never leaves a half-written file under a real name; it gets the usual
permissions (``0o666`` less the umask, as ``open`` would give it, not the
``0o600`` of ``mkstemp``), so a shared store stays readable by the group. Its
SHA-256 and Fletcher-64 sum are computed from the bytes as they are written (no
re-read), and each write returns a :class:`FileRecord` that the store's metadata
lists: reads check the Fletcher-64 sum (fast enough to check every shard as it
streams, :mod:`.checksum`), deep verification the SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import InputTypeError
from .checksum import Fletcher64

METADATA = "metadata.json"
PROGRESS = "progress.json"
INDEX = "index.parquet"
CLIPS = "clips.parquet"
FORMAT_VERSION = 2

# safetensors dtype names (the format's own spelling)
ST_DTYPES: dict[torch.dtype, str] = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


# every file a store folder may hold (relative POSIX paths); anything else is not the store's
_SITE, _CHUNK = r"[a-z][a-z_]*", r"r\d{2,}-\d{5,}"
OWN_FILES = tuple(re.compile(p) for p in (
    r"metadata\.json", r"progress\.json", r"index\.parquet", r"clips\.parquet",
    rf"shards/{_SITE}/L\d{{3}}/{_CHUNK}\.safetensors", rf"pooled/{_SITE}/{_CHUNK}\.safetensors",
    rf"stats/{_SITE}\.safetensors", rf"stats_parts/{_SITE}/{_CHUNK}\.safetensors", rf"rows/{_CHUNK}\.parquet",
    rf"chunks/{_CHUNK}\.json",
    # probe banks that ``musicinterp probe`` saves inside the store by default
    r"probes/[A-Za-z0-9][A-Za-z0-9_.-]{0,160}/(probes\.json|probes\.safetensors|heatmap\.html|"
    r"heatmap_sorted\.html|layers\.html|written_by_musicinterp\.json)",
))


def chunk_name(rank: int, chunk: int) -> str:
    """A chunk's file stem: the writing process's rank and the global chunk number."""
    return f"r{rank:02d}-{chunk:05d}"


def shard_path(root: Path, site: str, layer: int, chunk: str) -> Path:
    """Layer-major frame shards: one file per (site, layer, chunk of clips)."""
    return root / "shards" / site / f"L{layer:03d}" / f"{chunk}.safetensors"


def pooled_path(root: Path, site: str, chunk: str) -> Path:
    """Per-clip pooled features (mean over valid frames, last valid frame), all layers."""
    return root / "pooled" / site / f"{chunk}.safetensors"


def stats_part_path(root: Path, site: str, chunk: str) -> Path:
    return root / "stats_parts" / site / f"{chunk}.safetensors"


def stats_path(root: Path, site: str) -> Path:
    return root / "stats" / f"{site}.safetensors"


def chunk_rows_path(root: Path, chunk: str) -> Path:
    return root / "rows" / f"{chunk}.parquet"


def chunk_record_path(root: Path, chunk: str) -> Path:
    """Written last for a chunk: its existence means every file of the chunk is in place."""
    return root / "chunks" / f"{chunk}.json"


@dataclass(frozen=True)
class FileRecord:
    """Size, SHA-256 and Fletcher-64 sum (32 hex digits) of a written file, as listed in ``metadata.json``."""

    bytes: int
    sha256: str
    fletcher64: str

    def to_json(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "sha256": self.sha256, "fletcher64": self.fletcher64}


class _HashingFile:
    """A binary file that hashes every byte it writes."""

    def __init__(self, fh) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self._sum = Fletcher64()
        self.n = 0

    closed = False  # with tell/flush/close: enough of a file for pyarrow's PythonFile

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self._hash.update(view)
        self._sum.update(view)
        self._fh.write(view)
        self.n += view.nbytes
        return view.nbytes

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.n

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        """The owner closes the real file (after fsync)."""

    def record(self) -> FileRecord:
        return FileRecord(self.n, self._hash.hexdigest(), self._sum.hexdigest())


def umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux: ``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but only where /proc is missing)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[_HashingFile], None]) -> FileRecord:
    """Write ``path`` through ``write(file)`` atomically (temp + fsync + rename); return its record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0o600 would hide a shared store from the group
        with os.fdopen(fd, "wb") as fh:
            out = _HashingFile(fh)
            write(out)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out.record()


def _tensor_bytes(t: torch.Tensor) -> memoryview:
    """The raw little-endian bytes of a contiguous CPU tensor, without a copy."""
    flat = t.detach().contiguous().reshape(-1)
    if flat.numel() == 0:
        return memoryview(b"")
    return memoryview(flat.view(torch.uint8).numpy())


def write_safetensors(out: _HashingFile, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None) -> None:
    """Serialise ``tensors`` in the safetensors format straight from their memory.

    Header: 8-byte little-endian length, then JSON (dtype, shape, byte offsets),
    padded with spaces to 8 bytes; then the tensors' bytes back to back.
    """
    header: dict[str, Any] = {}
    parts: list[torch.Tensor] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in ST_DTYPES:
            raise InputTypeError(f"tensor {name!r} has dtype {t.dtype}, which safetensors cannot store")
        n = t.numel() * t.element_size()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        parts.append(t)
        offset += n
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    out.write(len(text).to_bytes(8, "little"))
    out.write(text)
    for t in parts:
        out.write(_tensor_bytes(t))


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The tensors' JSON header of a safetensors file (shapes and dtypes), checked, without reading its data.

    Raises ``ValueError`` naming the file when the header is damaged (see :mod:`.tensorfile`).
    """
    from .tensorfile import read_header

    return read_header(path, ValueError)


def atomic_save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
                        ) -> FileRecord:
    return atomic_write(path, lambda out: write_safetensors(out, tensors, metadata))


def atomic_write_json(path: Path, obj: Any) -> FileRecord:
    data = json.dumps(obj, indent=2, sort_keys=True).encode()
    return atomic_write(path, lambda out: out.write(data))


def atomic_write_parquet(path: Path, table) -> FileRecord:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    buf = sink.getvalue()
    return atomic_write(path, lambda out: out.write(memoryview(buf)))


def file_digest(path: Path) -> str:
    """SHA-256 of a file on disk (used by deep verification only)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
