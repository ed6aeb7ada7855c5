"""Steerer artifacts on disk: ``steerer.safetensors`` + ``steerer.json``, written atomically, read strictly.

The JSON carries the SHA-256 of the tensors file (``tensors_sha256``), checked on
load; tensors that steer (directions, scales, weights) must be finite when saved
and when loaded (metrics such as ``val_auc`` may be NaN); the ``concept`` is a
name (:func:`musicinterp.data.names.safe_name`), since it may become a file name.
The folder gets the package's marker (:mod:`musicinterp.store.owned`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from .._version import __version__
from ..data.names import UnsafeNameError, safe_name
from ..errors import MusicInterpError
from ..store import tensorfile as TF
from ..store.layout import atomic_save_tensors, atomic_write_json
from ..store.owned import write_marker
from .spec import ApplySpec, SpecError

REQUIRED = {"method": str, "concept": str, "site": str, "config": dict, "model_fingerprint": str, "model_id": str,
            "spec": dict}


METRICS = frozenset({"val_acc", "val_auc", "auc"})  # tensors that describe a fit and may hold NaN


class SteererFileError(ValueError, MusicInterpError):
    """A steerer folder that is missing, damaged or malformed; names the file and field."""


class SteererNameError(SteererFileError, UnsafeNameError):
    """A steerer's ``concept`` that cannot be used as a name."""


def save_artifact(steerer: Any, folder: str | Path) -> Path:
    """Write the tensors, then the JSON holding their SHA-256; refuses non-finite steering tensors."""
    folder = Path(folder)
    tensors_path = folder / "steerer.safetensors"
    safe_name(steerer.concept, field=f"{folder}: concept", error=SteererNameError)
    for name, t in steerer.tensors.items():
        if name not in METRICS:
            TF.check_finite(f"{tensors_path} (not saved)", name, t, SteererFileError)
    write_marker(folder, "steerer")
    record = atomic_save_tensors(tensors_path, steerer.tensors)
    atomic_write_json(folder / "steerer.json", {
        "method": steerer.method, "concept": steerer.concept, "site": steerer.site, "config": steerer.config,
        "model_fingerprint": steerer.model_fingerprint, "model_id": steerer.model_id,
        "spec": steerer.spec.to_dict(), "meta": steerer.meta, "package_version": __version__,
        "tensors_sha256": record.sha256})
    return folder


def load_artifact(folder: str | Path, registry: dict[str, type]) -> Any:
    folder = Path(folder)
    for name in ("steerer.json", "steerer.safetensors"):
        if not (folder / name).is_file():
            raise SteererFileError(f"no steerer in {folder} (missing {name})")
    path = folder / "steerer.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise SteererFileError(f"{path}: not valid JSON ({type(err).__name__}: {err})") from err
    if not isinstance(info, dict):
        raise SteererFileError(f"{path}: expected a JSON object, got {type(info).__name__}")
    for key, kind in REQUIRED.items():
        if key not in info:
            raise SteererFileError(f"{path}: missing field {key!r}")
        if not isinstance(info[key], kind):
            raise SteererFileError(f"{path}: field {key!r} must be {kind.__name__}, got {type(info[key]).__name__}")
    safe_name(info["concept"], field=f"{path}: field 'concept'", error=SteererNameError)
    meta = info.get("meta", {})
    if not isinstance(meta, dict):
        raise SteererFileError(f"{path}: field 'meta' must be dict, got {type(meta).__name__}")
    cls = registry.get(info["method"])
    if cls is None:
        raise SteererFileError(f"{path}: field 'method': unknown method {info['method']!r} "
                               f"(known: {', '.join(sorted(registry))})")
    try:
        spec = ApplySpec.from_dict(info["spec"], where=f"{path}: field 'spec'")
    except SpecError as err:
        raise SteererFileError(str(err)) from err
    tensors = _read_tensors(folder, path, info)
    missing = [k for k in getattr(cls, "required_tensors", ()) if k not in tensors]
    if missing:
        raise SteererFileError(f"{folder / 'steerer.safetensors'}: missing tensor {missing[0]!r} for {cls.method}")
    strength_key = getattr(cls, "strength_key", None)
    if strength_key and not isinstance(info["config"].get(strength_key), (int, float)):
        raise SteererFileError(f"{path}: field 'config.{strength_key}' must be a number")
    return cls(concept=info["concept"], site=info["site"], tensors=tensors, config=info["config"],
               model_fingerprint=info["model_fingerprint"], model_id=info["model_id"], spec=spec, meta=meta)


def _read_tensors(folder: Path, path: Path, info: dict[str, Any]) -> dict[str, Any]:
    """The tensors, checked against ``tensors_sha256`` (a steerer saved before checksums: with a warning)."""
    digest = info.get("tensors_sha256")
    if digest is None:
        warnings.warn(f"{path} has no 'tensors_sha256' (saved before steerers carried a checksum): its tensors "
                      f"are checked for shape and finite values only; save it again to add one", UserWarning,
                      stacklevel=4)
    elif not (isinstance(digest, str) and len(digest) == 64):
        raise SteererFileError(f"{path}: field 'tensors_sha256' must be 64 hex digits, got {digest!r}")
    return TF.read_tensors(folder / "steerer.safetensors", SteererFileError,
                           checksum=None if digest is None else ("sha256", digest), may_be_nonfinite=METRICS)
