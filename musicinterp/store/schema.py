"""Checks a store's ``metadata.json`` and Parquet tables before anything reads them.

Every problem becomes a :class:`StoreFormatError` naming the file and the field,
instead of a ``KeyError`` or ``IndexError`` from deep inside a reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from . import layout as LY
from .errors import StoreFormatError

FRAME_WORDS = ("valid", "last", "all", "pooled")
DTYPES = ("float32", "float16", "bfloat16", "float64")
_CHUNK = re.compile(r"^r\d{2,}-\d{5,}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_CRC = re.compile(r"^[0-9a-f]{8}$")
_SUM = re.compile(r"^[0-9a-f]{32}$")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _nonneg(v: Any) -> bool:
    return _is_int(v) and v >= 0


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _frames(v: Any) -> bool:
    return v in FRAME_WORDS or (isinstance(v, list) and len(v) == 2 and all(_is_int(x) for x in v))


# field -> (check, what it must be)
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "format_version": (lambda v: v == LY.FORMAT_VERSION, f"format version {LY.FORMAT_VERSION}"),
    "status": (lambda v: v == "complete", "'complete'"),
    "model_id": (lambda v: isinstance(v, str), "a string"),
    "model_fingerprint": (lambda v: isinstance(v, str) and bool(v), "a non-empty string"),
    "concept_set": (lambda v: isinstance(v, str), "a string"),
    "concepts": (_str_list, "a list of strings"),
    "sites": (lambda v: _str_list(v) and len(v) > 0, "a non-empty list of site names"),
    "n_layers": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "site_shapes": (lambda v: isinstance(v, dict), "an object mapping site -> shape"),
    "dtype": (lambda v: v in DTYPES, f"one of {DTYPES}"),
    "frames": (_frames, f"one of {FRAME_WORDS} or a window [start, stop]"),
    "frames_stored": (lambda v: isinstance(v, bool), "true or false"),
    "branch": (lambda v: v in ("cond", "uncond", "both"), "'cond', 'uncond' or 'both'"),
    "n_rows": (_nonneg, "a non-negative integer"),
    "n_clips_kept": (_nonneg, "a non-negative integer"),
    "chunks": (lambda v: isinstance(v, list), "a list of chunk records"),
    "files": (lambda v: isinstance(v, dict), "an object mapping file -> {bytes, sha256, fletcher64}"),
    "skipped": (lambda v: isinstance(v, list), "a list"),
}


def _fail(path: Path, field: str, msg: str) -> StoreFormatError:
    return StoreFormatError(f"{path}: field {field!r} {msg}")


def check_metadata(meta: Any, path: Path) -> None:
    """Raise :class:`StoreFormatError` unless ``meta`` is a well-formed complete-store metadata object."""
    if not isinstance(meta, dict):
        raise StoreFormatError(f"{path}: expected a JSON object, got {type(meta).__name__}")
    for name, (ok, what) in FIELDS.items():
        if name not in meta:
            raise _fail(path, name, "is missing")
        if not ok(meta[name]):
            raise _fail(path, name, f"must be {what}, got {_short(meta[name])}")
    for site in meta["sites"]:
        shape = meta["site_shapes"].get(site)
        if not (isinstance(shape, list) and shape and all(_is_int(d) and d > 0 for d in shape)):
            raise _fail(path, f"site_shapes.{site}", f"must be a list of positive integers, got {_short(shape)}")
    rows = clips = 0
    names: set[str] = set()
    for i, ch in enumerate(meta["chunks"]):
        field = f"chunks[{i}]"
        if not isinstance(ch, dict):
            raise _fail(path, field, f"must be an object, got {_short(ch)}")
        if not (isinstance(ch.get("name"), str) and _CHUNK.match(ch["name"])) or ch["name"] in names:
            raise _fail(path, f"{field}.name", f"must be a unique chunk name like 'r00-00000', got "
                                               f"{_short(ch.get('name'))}")
        names.add(ch["name"])
        for key in ("n_clips", "n_rows"):
            if not _nonneg(ch.get(key)):
                raise _fail(path, f"{field}.{key}", f"must be a non-negative integer, got {_short(ch.get(key))}")
        rows += ch["n_rows"]
        clips += ch["n_clips"]
    if rows != meta["n_rows"]:
        raise _fail(path, "n_rows", f"is {meta['n_rows']} but the chunks hold {rows} rows")
    if clips != meta["n_clips_kept"]:
        raise _fail(path, "n_clips_kept", f"is {meta['n_clips_kept']} but the chunks hold {clips} clips")
    for rel, info in meta["files"].items():
        field = f"files[{rel!r}]"
        p = PurePosixPath(rel)
        if p.is_absolute() or ".." in p.parts or not rel:
            raise _fail(path, field, "must be a path inside the store")
        if not (isinstance(info, dict) and _nonneg(info.get("bytes")) and isinstance(info.get("sha256"), str)
                and _HEX.match(info["sha256"])):
            raise _fail(path, field, f"must be {{bytes: int, sha256: 64 hex digits}}, got {_short(info)}")
        for key, pattern, what in (("fletcher64", _SUM, "32"), ("crc32", _CRC, "8")):
            if key in info and not (isinstance(info[key], str) and pattern.match(info[key])):
                raise _fail(path, f"{field}.{key}", f"must be {what} hex digits, got {_short(info[key])}")
    for rel in expected_files(meta):
        if rel not in meta["files"]:
            raise _fail(path, "files", f"does not list {rel}, which this store must hold")


def expected_files(meta: dict[str, Any]) -> list[str]:
    """Relative paths a complete store with this metadata holds."""
    root = Path(".")
    out = [LY.CLIPS] + ([LY.INDEX] if meta["frames_stored"] else [])
    for site in meta["sites"]:
        out.append(str(LY.stats_path(root, site)))
        for ch in meta["chunks"]:
            out.append(str(LY.pooled_path(root, site, ch["name"])))
            if meta["frames_stored"]:
                out.extend(str(LY.shard_path(root, site, layer, ch["name"])) for layer in range(meta["n_layers"]))
    return out


def check_header(path: Path, header: Any, want: dict[str, tuple[list[int], str | None]]) -> None:
    """A safetensors header holds tensors ``name -> (shape, dtype)`` as ``want`` says (dtype None: any)."""
    if not isinstance(header, dict):
        raise StoreFormatError(f"{path}: header is not a JSON object")
    for name, (shape, dtype) in want.items():
        info = header.get(name)
        if not isinstance(info, dict):
            raise StoreFormatError(f"{path}: field {name!r} (tensor) is missing")
        if info.get("shape") != shape:
            raise StoreFormatError(f"{path}: field {name!r} has shape {info.get('shape')}, expected {shape}")
        if dtype is not None and info.get("dtype") != dtype:
            raise StoreFormatError(f"{path}: field {name!r} has dtype {info.get('dtype')}, expected {dtype}")


def check_table(path: Path, schema, n_rows: int, want_rows: int, columns: dict[str, tuple[str, ...]]) -> None:
    """A Parquet table has ``want_rows`` rows and the ``columns`` (name -> allowed Arrow type names)."""
    for col, kinds in columns.items():
        if col not in schema.names:
            raise StoreFormatError(f"{path}: column {col!r} is missing")
        kind = str(schema.field(col).type)
        if kind not in kinds:
            raise StoreFormatError(f"{path}: column {col!r} has type {kind}, expected {' or '.join(kinds)}")
    if n_rows != want_rows:
        raise StoreFormatError(f"{path}: holds {n_rows} rows, but metadata field 'n_rows'/'n_clips_kept' "
                               f"says {want_rows}")


def clip_columns(concepts: list[str]) -> dict[str, tuple[str, ...]]:
    ints = ("int64", "int32")
    cols: dict[str, tuple[str, ...]] = {"clip_id": ("string",), "group": ("string",), "split": ("string",),
                                        "n_frames": ints, "n_rows": ints, "first_row": ints}
    cols.update({f"label_{c}": ("double", "float") for c in concepts})
    return cols


def index_columns(concepts: list[str]) -> dict[str, tuple[str, ...]]:
    cols: dict[str, tuple[str, ...]] = {"clip_index": ("int64",), "position": ("int32", "int64"),
                                        "clip_id": ("string",), "split": ("string",), "branch": ("string",)}
    cols.update({f"label_{c}": ("float", "double") for c in concepts})
    return cols


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
