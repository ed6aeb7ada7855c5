"""Concept-set manifests: a documented, validated JSON/JSONL schema.

Three kinds (the ``kind`` field):

``audio``
    ``{"kind": "audio", "name": str, "concepts": {name: "binary" | "continuous"},
    "entries": [{"id": str, "path": str (relative to the root you pass), "labels": {name: number},
    "offset": seconds?, "duration": seconds?, "split": "train" | "val"?, "group": str?}]}``.
    As JSONL: the first line is the header (everything but ``entries``), each further line one entry.
``prompts``
    ``{"kind": "prompts", "name": str, "concept": str, "positive": [str, ...], "negative": [str, ...]}``:
    two poles of text prompts (difference-in-means from prompts).
``organism``
    ``{"kind": "organism", "name": str, "concept": str, "count": int, "seed": int, "paired": bool,
    "n_frames": int?}``: clips drawn from the model organism's world.

Every error names the file and the offending field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import MusicInterpError
from .concept_set import AudioRef, ConceptSet

KINDS = ("audio", "prompts", "organism")


class ManifestError(ValueError, MusicInterpError):
    """A manifest does not follow the schema; the message names file and field."""


@dataclass
class Manifest:
    kind: str
    name: str
    body: dict[str, Any]
    path: Path | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)


def _check_inside(m: Manifest, base: Path) -> None:
    root = base.resolve()
    for i, e in enumerate(m.entries):
        target = (base / e["path"]).resolve()
        if Path(e["path"]).is_absolute() or not target.is_relative_to(root):
            raise _fail(m.path, f"entries[{i}].path", f"{e['path']!r} leaves the manifest's root {root} (pass "
                        f"allow_outside_root=True to read it anyway)")


def _fail(path: Path | None, where: str, msg: str) -> ManifestError:
    return ManifestError(f"{path or '<manifest>'}: {where}: {msg}")


def _require(d: dict, key: str, types: type | tuple, path: Path | None, where: str) -> Any:
    if key not in d:
        raise _fail(path, where, f"missing field {key!r}")
    if not isinstance(d[key], types) or isinstance(d[key], bool) and bool not in (
            types if isinstance(types, tuple) else (types,)):
        raise _fail(path, f"{where}.{key}", f"expected {getattr(types, '__name__', types)}, got {d[key]!r}")
    return d[key]


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest (``.json`` or ``.jsonl``)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    text = path.read_text()
    try:
        if path.suffix == ".jsonl":
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if not lines:
                raise ManifestError(f"{path}: empty manifest")
            body = json.loads(lines[0])
            body["entries"] = [json.loads(ln) for ln in lines[1:]]
        else:
            body = json.loads(text)
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}: not valid JSON (line {err.lineno}): {err.msg}") from err
    return validate_manifest(body, path)


def validate_manifest(body: dict[str, Any], path: Path | None = None) -> Manifest:
    if not isinstance(body, dict):
        raise _fail(path, "top level", "expected an object")
    kind = _require(body, "kind", str, path, "top level")
    if kind not in KINDS:
        raise _fail(path, "kind", f"must be one of {KINDS}, got {kind!r}")
    name = _require(body, "name", str, path, "top level")
    m = Manifest(kind=kind, name=name, body=body, path=path)
    if kind == "audio":
        concepts = _require(body, "concepts", dict, path, "top level")
        for c, t in concepts.items():
            if t not in ("binary", "continuous"):
                raise _fail(path, f"concepts.{c}", f"must be 'binary' or 'continuous', got {t!r}")
        entries = _require(body, "entries", list, path, "top level")
        if not entries:
            raise _fail(path, "entries", "no entries")
        seen: set[str] = set()
        for i, e in enumerate(entries):
            where = f"entries[{i}]"
            if not isinstance(e, dict):
                raise _fail(path, where, "expected an object")
            eid = _require(e, "id", str, path, where)
            if eid in seen:
                raise _fail(path, f"{where}.id", f"duplicate id {eid!r}")
            seen.add(eid)
            _require(e, "path", str, path, where)
            labels = _require(e, "labels", dict, path, where)
            for c, kind_ in concepts.items():
                if c not in labels:
                    raise _fail(path, f"{where}.labels", f"missing label for concept {c!r}")
                v = labels[c]
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                    raise _fail(path, f"{where}.labels.{c}", f"expected a finite number, got {v!r}")
                if kind_ == "binary" and v not in (0, 1):
                    raise _fail(path, f"{where}.labels.{c}", f"binary concept needs 0 or 1, got {v!r}")
            for key in ("offset", "duration"):
                if key in e and (not isinstance(e[key], (int, float)) or e[key] < 0 or
                                 key == "duration" and e[key] == 0):
                    raise _fail(path, f"{where}.{key}", f"expected a positive number of seconds, got {e[key]!r}")
            if "split" in e and e["split"] not in ("train", "val"):
                raise _fail(path, f"{where}.split", f"must be 'train' or 'val', got {e['split']!r}")
        m.entries = entries
    elif kind == "prompts":
        _require(body, "concept", str, path, "top level")
        for pole in ("positive", "negative"):
            prompts = _require(body, pole, list, path, "top level")
            if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
                raise _fail(path, pole, "expected a non-empty list of non-empty strings")
    else:
        _require(body, "concept", str, path, "top level")
        count = _require(body, "count", int, path, "top level")
        if count < 2:
            raise _fail(path, "count", f"needs at least 2 clips, got {count}")
        _require(body, "seed", int, path, "top level")
        if not isinstance(body.get("paired", False), bool):
            raise _fail(path, "paired", f"expected true/false, got {body['paired']!r}")
    return m


def to_concept_set(manifest: Manifest | str | Path, root: str | Path | None = None, *,
                   allow_outside_root: bool = False) -> ConceptSet:
    """Turn a manifest into a ConceptSet (audio paths are resolved against ``root``).

    An entry path that leaves the root (``../``, an absolute path) is refused
    unless ``allow_outside_root``: a manifest from elsewhere should not read
    files its user did not point it at.
    """
    m = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    b = m.body
    if m.kind == "audio":
        base = Path(root) if root is not None else (m.path.parent if m.path else Path("."))
        concepts = list(b["concepts"])
        entries = m.entries
        if not allow_outside_root:
            _check_inside(m, base)
        return ConceptSet(
            name=m.name,
            labels={c: torch.tensor([float(e["labels"][c]) for e in entries]) for c in concepts},
            ids=[e["id"] for e in entries], groups=[e.get("group", e["id"]) for e in entries],
            audio=[AudioRef(str(base / e["path"]), float(e.get("offset", 0.0)), e.get("duration")) for e in entries],
            splits=[e["split"] for e in entries] if all("split" in e for e in entries) else None,
            meta={"manifest": str(m.path) if m.path else None, "root": str(base)})
    if m.kind == "prompts":
        pos, neg = b["positive"], b["negative"]
        prompts = list(pos) + list(neg)
        ids = [f"{m.name}-pos-{i}" for i in range(len(pos))] + [f"{m.name}-neg-{i}" for i in range(len(neg))]
        return ConceptSet(name=m.name, labels={b["concept"]: torch.tensor([1] * len(pos) + [0] * len(neg))},
                          ids=ids, groups=list(ids), prompts=prompts, meta={"manifest": str(m.path)})
    from ..organism.concept_sets import balanced_set, paired_set

    make = paired_set if b.get("paired", False) else balanced_set
    count = b["count"] // 2 if b.get("paired", False) else b["count"]
    cs = make(b["concept"], count, seed=b["seed"], n_frames=int(b.get("n_frames", 200)))
    cs.name = m.name
    return cs
