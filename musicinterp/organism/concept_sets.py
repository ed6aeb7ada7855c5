"""Concept sets drawn from the organism's world: balanced per concept, and paired."""

from __future__ import annotations

import numbers

import torch

from ..data.concept_set import ConceptSet
from ..data.manifest import MAX_ORGANISM_CLIPS, MAX_ORGANISM_FRAMES, MAX_ORGANISM_TOTAL, register_world_sets
from ..errors import InputError, MusicInterpError
from .world import CONCEPTS, OrganismWorld


class OrganismSetError(ValueError, MusicInterpError):
    """An organism concept set too large (or too small) to draw; names the argument and the bound."""


def _check_size(n_clips: int, n_frames: int) -> None:
    """The same bounds as an organism manifest's ``count`` and ``n_frames``, before any clip is drawn."""
    if not (isinstance(n_clips, numbers.Integral) and 1 <= n_clips <= MAX_ORGANISM_CLIPS):
        raise OrganismSetError(f"n={n_clips!r}: an organism set holds 1 to {MAX_ORGANISM_CLIPS} clips (each is "
                               f"drawn and held in memory)")
    if not (isinstance(n_frames, numbers.Integral) and 5 <= n_frames <= MAX_ORGANISM_FRAMES):
        raise OrganismSetError(f"n_frames={n_frames!r}: organism clips hold 5 to {MAX_ORGANISM_FRAMES} frames")
    if n_clips * n_frames > MAX_ORGANISM_TOTAL:
        raise OrganismSetError(f"{n_clips} clips of {n_frames} frames are more than {MAX_ORGANISM_TOTAL} frames")


def _labels(clips) -> dict[str, torch.Tensor]:
    """The planted concepts, then the nuisances a keep-set may name (``dynamics``: loud; ``mode``: minor), binary
    as the world's dynamics and mode judges read them."""
    labels = {c: torch.tensor([getattr(k.latents, c) for k in clips]) for c in CONCEPTS}
    labels["dynamics"] = torch.tensor([int(k.nuisance.dynamics == 2) for k in clips])
    labels["mode"] = torch.tensor([int(k.nuisance.minor) for k in clips])
    return labels


def balanced_set(concept: str, n: int, seed: int = 0, n_frames: int = 200) -> ConceptSet:
    """``n`` clips, half with ``concept`` on and half off; other concepts drawn at random."""
    if concept not in CONCEPTS:
        raise InputError(f"unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    _check_size(n, n_frames)
    world = OrganismWorld(n_frames)
    clips = []
    for i in range(n):
        clip = world.sample(seed * 1_000_003 + i, n_frames=n_frames)
        clips.append(world.with_concept(clip, concept, i % 2))
    ids = [f"{concept}-{seed}-{i}" for i in range(n)]
    return ConceptSet(name=f"organism-{concept}-balanced", labels=_labels(clips), ids=ids, groups=list(ids),
                      codes=torch.stack([c.codes for c in clips]),
                      meta={"source": "organism", "concept": concept, "seed": seed, "paired": False})


def paired_set(concept: str, n_pairs: int, seed: int = 0, n_frames: int = 200) -> ConceptSet:
    """The same clip with and without ``concept`` (as SMITIN built drum/bass sets from stems)."""
    if concept not in CONCEPTS:
        raise InputError(f"unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    _check_size(2 * n_pairs, n_frames)
    world = OrganismWorld(n_frames)
    clips, ids, groups = [], [], []
    for i in range(n_pairs):
        base = world.sample(seed * 1_000_003 + i, n_frames=n_frames)
        for value in (1, 0):
            clips.append(world.with_concept(base, concept, value))
            ids.append(f"{concept}-{seed}-{i}-{'with' if value else 'without'}")
            groups.append(f"{concept}-{seed}-{i}")
    return ConceptSet(name=f"organism-{concept}-paired", labels=_labels(clips), ids=ids, groups=groups,
                      codes=torch.stack([c.codes for c in clips]),
                      meta={"source": "organism", "concept": concept, "seed": seed, "paired": True})


def prompt_codes(n: int, *, without: str | None = None, with_: str | None = None, seed: int = 0,
                 n_frames: int = 200) -> torch.Tensor:
    """``n`` world clips ``(n, 4, n_frames)`` to continue, with one concept forced off (``without``) or on."""
    if (without is None) == (with_ is None):
        raise InputError("give exactly one of without= or with_= (a concept name)")
    concept = without or with_
    if concept not in CONCEPTS:
        raise InputError(f"unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    world = OrganismWorld(n_frames)
    value = 0 if without else 1
    return torch.stack([world.with_concept(world.sample(90_000 + seed * 1000 + i), concept, value).codes
                        for i in range(n)])


def manifest_set(body: dict) -> ConceptSet:
    """The concept set an ``organism`` manifest names (balanced, or paired with ``count`` clips in pairs)."""
    make = paired_set if body.get("paired", False) else balanced_set
    count = body["count"] // 2 if body.get("paired", False) else body["count"]
    return make(body["concept"], count, seed=body["seed"], n_frames=int(body.get("n_frames", 200)))


register_world_sets("organism", manifest_set)
