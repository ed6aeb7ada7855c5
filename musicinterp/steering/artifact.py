"""Steerer artifacts on disk: ``steerer.safetensors`` + ``steerer.json``, written atomically, read strictly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file

from .._version import __version__
from ..errors import MusicInterpError
from ..store.layout import atomic_save_tensors, atomic_write_json
from .spec import ApplySpec, SpecError

REQUIRED = {"method": str, "concept": str, "site": str, "config": dict, "model_fingerprint": str, "model_id": str,
            "spec": dict}


class SteererFileError(ValueError, MusicInterpError):
    """A steerer folder that is missing, damaged or malformed; names the file and field."""


def save_artifact(steerer: Any, folder: str | Path) -> Path:
    folder = Path(folder)
    atomic_save_tensors(folder / "steerer.safetensors", steerer.tensors)
    atomic_write_json(folder / "steerer.json", {
        "method": steerer.method, "concept": steerer.concept, "site": steerer.site, "config": steerer.config,
        "model_fingerprint": steerer.model_fingerprint, "model_id": steerer.model_id,
        "spec": steerer.spec.to_dict(), "meta": steerer.meta, "package_version": __version__})
    return folder


def load_artifact(folder: str | Path, registry: dict[str, type]) -> Any:
    folder = Path(folder)
    for name in ("steerer.json", "steerer.safetensors"):
        if not (folder / name).is_file():
            raise SteererFileError(f"no steerer in {folder} (missing {name})")
    path = folder / "steerer.json"
    try:
        info = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SteererFileError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(info, dict):
        raise SteererFileError(f"{path}: expected a JSON object, got {type(info).__name__}")
    for key, kind in REQUIRED.items():
        if key not in info:
            raise SteererFileError(f"{path}: missing field {key!r}")
        if not isinstance(info[key], kind):
            raise SteererFileError(f"{path}: field {key!r} must be {kind.__name__}, got {type(info[key]).__name__}")
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
    try:
        tensors = load_file(folder / "steerer.safetensors")
    except (SafetensorError, OSError, ValueError) as err:
        raise SteererFileError(f"{folder / 'steerer.safetensors'}: damaged ({err})") from err
    missing = [k for k in getattr(cls, "required_tensors", ()) if k not in tensors]
    if missing:
        raise SteererFileError(f"{folder / 'steerer.safetensors'}: missing tensor {missing[0]!r} for {cls.method}")
    strength_key = getattr(cls, "strength_key", None)
    if strength_key and not isinstance(info["config"].get(strength_key), (int, float)):
        raise SteererFileError(f"{path}: field 'config.{strength_key}' must be a number")
    return cls(concept=info["concept"], site=info["site"], tensors=tensors, config=info["config"],
               model_fingerprint=info["model_fingerprint"], model_id=info["model_id"], spec=spec, meta=meta)
