"""What a collection does with its output folder: start, resume, reuse or refuse.

A complete store collected by the same request (model fingerprint, concept set
digest, sites, frames, dtype, ...) is reused; an unfinished one with the same
request and chunk plan is resumed; anything else is refused with an error that
names every setting that differs, unless ``overwrite=True``. Overwriting deletes
only a store this package wrote (its marker, :mod:`.owned`) holding nothing but
store files; a folder with anything else in it is refused and left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from . import layout as LY
from . import owned
from .errors import StoreError, StoreFormatError, StoreModelMismatchError, StoreRequestMismatchError

# what makes two collections the same data
IDENTITY = ("kind", "model_fingerprint", "concept_set_digest", "sites", "frames", "dtype",
            "branch", "text", "n_steps", "seed", "skip_bad")
# what must also match to continue an unfinished one (the chunk plan)
PLAN = ("clips_per_chunk", "batch_size", "num_processes", "n_chunks")

Action = Literal["fresh", "overwrite", "resume", "reuse"]


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StoreFormatError(f"{path}: not valid JSON ({err})") from err


def _differences(old: dict[str, Any], new: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [f"{k}: {_show(old.get(k))} there, {_show(new.get(k))} requested" for k in keys
            if old.get(k) != new.get(k)]


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def decide(root: Path, config: dict[str, Any], overwrite: bool) -> Action:
    """Look at ``root`` (without changing it) and say what the collection will do; raise if refused."""
    if not config.get("sites"):
        raise StoreError(f"{root}: no sites requested; a store needs at least one site")
    owned.refuse_package_destination(root, "a store")
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        return "fresh"
    if not root.is_dir():
        raise StoreError(f"{root} is a file, not a folder; choose a store folder")
    if overwrite:
        owned.check_removable(root, "store", LY.OWN_FILES)
        return "overwrite"
    if (root / LY.METADATA).is_file():
        what, old = "complete store", read_json(root / LY.METADATA)
        keys = IDENTITY
    elif (root / LY.PROGRESS).is_file():
        what, state = "unfinished collection", read_json(root / LY.PROGRESS)
        old = state.get("config") if isinstance(state, dict) else None
        keys = IDENTITY + PLAN
    else:
        raise StoreError(f"{root} exists and is not a store; choose an empty folder")
    if not isinstance(old, dict):
        raise StoreFormatError(f"{root}: the {what}'s settings are not a JSON object; pass overwrite=True")
    if old.get("model_fingerprint") != config["model_fingerprint"]:
        raise StoreModelMismatchError(
            f"{root} holds a {what} from model {old.get('model_id')!r} (fingerprint "
            f"{old.get('model_fingerprint')}); this model is {config['model_id']!r} (fingerprint "
            f"{config['model_fingerprint']}). Use another folder or overwrite=True.")
    diff = _differences(old, config, keys)
    if diff:
        raise StoreRequestMismatchError(f"{root} holds a {what} collected with different settings "
                                        f"({'; '.join(diff)}); use another folder or overwrite=True")
    return "reuse" if what == "complete store" else "resume"


def prepare(root: Path, config: dict[str, Any], action: Action) -> None:
    """Make ``root`` ready for ``action`` (run by one process only)."""
    if action == "overwrite":
        owned.remove(root, "store", LY.OWN_FILES)
    if action in ("fresh", "overwrite"):
        root.mkdir(parents=True, exist_ok=True)
        owned.write_marker(root, "store")
        LY.atomic_write_json(root / LY.PROGRESS, {"config": config})
