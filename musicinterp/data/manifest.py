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

Every error names the file and the offending field. Concept names and entry ids
must be names (:mod:`musicinterp.data.names`: they may become file names);
offsets and durations are finite and bounded (:data:`SECONDS`), organism counts
and lengths too (:data:`MAX_ORGANISM_CLIPS`, :data:`MAX_ORGANISM_FRAMES`,
:data:`MAX_ORGANISM_TOTAL`), so a tiny manifest cannot ask for unbounded work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import MusicInterpError
from .concept_set import AudioRef, ConceptSet
from .names import UnsafeNameError, safe_name

KINDS = ("audio", "prompts", "organism")
# entry segment bounds in seconds, with why: an offset past a day of audio is a typo; a clip longer than
# ten minutes is past any MusicGen context and, at 384 kHz stereo, 1.8 GB of samples before resampling
SECONDS = {"offset": (0.0, 86_400.0), "duration": (0.0, 600.0)}
SECONDS_WHY = {"offset": "a day of audio", "duration": "ten minutes; MusicGen's context is 30 s"}
MAX_ORGANISM_CLIPS = 100_000
MAX_ORGANISM_FRAMES = 1_500
MAX_ORGANISM_TOTAL = 10_000_000  # frames over all clips: 4 codebooks of int64 codes, 32 bytes a frame


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
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            lines = [ln for ln in text.splitlines() if ln.strip()]
            if not lines:
                raise ManifestError(f"{path}: empty manifest")
            body = json.loads(lines[0])
            if not isinstance(body, dict):
                raise _fail(path, "line 1", "expected the header object")
            body["entries"] = [json.loads(ln) for ln in lines[1:]]
        else:
            body = json.loads(text)
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}: not valid JSON (line {err.lineno}): {err.msg}") from err
    except (UnicodeDecodeError, RecursionError) as err:
        raise ManifestError(f"{path}: not a UTF-8 JSON manifest ({type(err).__name__})") from err
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
        m.entries = _audio_entries(body, path)
    elif kind == "prompts":
        _name(_require(body, "concept", str, path, "top level"), path, "concept")
        for pole in ("positive", "negative"):
            prompts = _require(body, pole, list, path, "top level")
            if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
                raise _fail(path, pole, "expected a non-empty list of non-empty strings")
    else:
        _check_organism(body, path)
    return m


class ManifestNameError(ManifestError, UnsafeNameError):
    """A concept name or entry id in a manifest that cannot be used as a name."""


def _name(value: str, path: Path | None, where: str) -> str:
    try:
        return safe_name(value, field=f"{path or '<manifest>'}: {where}")
    except UnsafeNameError as err:
        raise ManifestNameError(str(err)) from err


def _audio_entries(body: dict[str, Any], path: Path | None) -> list[dict[str, Any]]:
    concepts = _require(body, "concepts", dict, path, "top level")
    for c, t in concepts.items():
        _name(c, path, f"concepts.{c}")
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
        eid = _name(_require(e, "id", str, path, where), path, f"{where}.id")
        if eid in seen:
            raise _fail(path, f"{where}.id", f"duplicate id {eid!r}")
        seen.add(eid)
        if not _require(e, "path", str, path, where):
            raise _fail(path, f"{where}.path", "expected a file path, got ''")
        if "group" in e and not isinstance(e["group"], str):
            raise _fail(path, f"{where}.group", f"expected a string, got {e['group']!r}")
        _check_labels(_require(e, "labels", dict, path, where), concepts, path, where)
        for key, (low, high) in SECONDS.items():
            v = e.get(key, low if key == "offset" else high)
            if not (_number(v) and math.isfinite(v) and low <= v <= high and (key == "offset" or v > 0)):
                raise _fail(path, f"{where}.{key}", f"expected a {'non-negative' if key == 'offset' else 'positive'} "
                            f"number of seconds up to {high:g} ({SECONDS_WHY[key]}), got {v!r}")
        if "split" in e and e["split"] not in ("train", "val"):
            raise _fail(path, f"{where}.split", f"must be 'train' or 'val', got {e['split']!r}")
    return entries


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_labels(labels: dict[str, Any], concepts: dict[str, str], path: Path | None, where: str) -> None:
    for c, kind_ in concepts.items():
        if c not in labels:
            raise _fail(path, f"{where}.labels", f"missing label for concept {c!r}")
        v = labels[c]
        if not _number(v) or not math.isfinite(v):
            raise _fail(path, f"{where}.labels.{c}", f"expected a finite number, got {v!r}")
        if kind_ == "binary" and v not in (0, 1):
            raise _fail(path, f"{where}.labels.{c}", f"binary concept needs 0 or 1, got {v!r}")


def _check_organism(body: dict[str, Any], path: Path | None) -> None:
    _name(_require(body, "concept", str, path, "top level"), path, "concept")
    count = _require(body, "count", int, path, "top level")
    if not 2 <= count <= MAX_ORGANISM_CLIPS:
        raise _fail(path, "count", f"needs 2 to {MAX_ORGANISM_CLIPS} clips (each is drawn and held in memory), "
                                   f"got {count}")
    _require(body, "seed", int, path, "top level")
    if not isinstance(body.get("paired", False), bool):
        raise _fail(path, "paired", f"expected true/false, got {body['paired']!r}")
    frames = body.get("n_frames", 200)
    if not (isinstance(frames, int) and not isinstance(frames, bool) and 5 <= frames <= MAX_ORGANISM_FRAMES):
        raise _fail(path, "n_frames", f"expected an integer from 5 to {MAX_ORGANISM_FRAMES} frames (50 a second: "
                                      f"the delay pattern needs 5, MusicGen's context is 30 s), got {frames!r}")
    if count * frames > MAX_ORGANISM_TOTAL:
        raise _fail(path, "count", f"{count} clips of {frames} frames are {count * frames} frames, more than "
                                   f"{MAX_ORGANISM_TOTAL} (about {MAX_ORGANISM_TOTAL * 32 // 2**20} MB of codes)")


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
    if m.kind not in WORLD_SETS:
        raise _fail(m.path, "kind", f"no world writes {m.kind!r} concept sets here (import musicinterp first)")
    cs = WORLD_SETS[m.kind](b)
    cs.name = m.name
    return cs


# concept sets a world writes itself, by manifest kind: the organism registers "organism"
WORLD_SETS: dict[str, Callable[[dict[str, Any]], ConceptSet]] = {}


def register_world_sets(kind: str, build: Callable[[dict[str, Any]], ConceptSet]) -> None:
    """Let manifests of ``kind`` name concept sets that ``build(body)`` writes (a world's own clips)."""
    WORLD_SETS[kind] = build
