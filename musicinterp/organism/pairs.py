"""The organism's patching pairs and concept metrics: clips with and without a concept, prompt word swaps,
and each concept's codes against their absence."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..ablation.inputs import AblationInputError
from ..ablation.metrics import LogitDiff
from ..ablation.pairs import Pair, clip_pair, prompt_pair
from ..models.musicgen import MusicGen
from . import vocab as V
from .world import CONCEPTS, OrganismWorld


def organism_clip_pair(model: MusicGen, concept: str, n: int = 8, *, seed: int = 0, n_frames: int = 200,
                       text: Sequence[str] | str | None = None, branch: str | None = None) -> Pair:
    """Organism clips with ``concept`` (clean) and the same clips without it (corrupt): same nuisance."""
    if concept not in CONCEPTS:
        raise AblationInputError(f"concept: unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    world = OrganismWorld(n_frames)
    base = [world.sample(seed * 1_000_003 + i, n_frames=n_frames) for i in range(n)]
    on = torch.stack([world.with_concept(c, concept, 1).codes for c in base])
    off = torch.stack([world.with_concept(c, concept, 0).codes for c in base])
    pair = clip_pair(model, on, off, text=text, branch=branch)
    pair.description = f"{concept} on -> off ({n} clips)"
    return pair


def organism_prompt_pair(model: MusicGen, concept: str, n: int = 8, *, seed: int = 0, n_frames: int = 200,
                         branch: str = "cond", guidance_scale: float | None = None) -> Pair:
    """The concept's word against its opposite (``"drums"`` -> ``"no drums"``), teacher-forced on the same
    organism clips (which hold the concept, so the clean prompt agrees with the music)."""
    from ..organism.prompts import phrase
    if concept not in CONCEPTS:
        raise AblationInputError(f"concept: unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    world = OrganismWorld(n_frames)
    codes = torch.stack([world.with_concept(world.sample(seed * 1_000_003 + i, n_frames=n_frames), concept, 1).codes
                         for i in range(n)])
    return prompt_pair(model, codes, phrase(concept, 1), phrase(concept, 0), branch=branch,
                       guidance_scale=guidance_scale)


def organism_concept_codes(concept: str) -> tuple[int, list[int], list[int]]:
    """(codebook, codes of the concept, codes of its absence) in the organism's vocabulary."""
    table = {
        "drums": (V.DRUMS, list(range(1, V.DRUM_MAX)), [0]),
        "bass": (V.BASS, list(range(1, V.BASS_ONSET_MAX)) + list(range(V.BASS_SUSTAIN, V.BASS_SUSTAIN + V.BASS_PITCHES)),
                 [0]),
        "timbre": (V.BRIGHT, list(range(V.BRIGHT_MAX // 2, V.BRIGHT_MAX)), list(range(0, V.BRIGHT_MAX // 2))),
        "tempo": (V.LEAD, list(range(1, V.LEAD_ONSET_MAX)), list(range(V.LEAD_SUSTAIN, V.LEAD_SUSTAIN + V.LEAD_PITCHES))),
    }
    if concept not in table:
        raise AblationInputError(f"metric: unknown organism concept {concept!r}; known: {', '.join(table)}")
    return table[concept]


def concept_logit_diff(concept: str, frames: tuple[int, int] | None = None) -> LogitDiff:
    """The organism's concept logit difference, e.g. drum hits vs silence on the drum codebook."""
    cb, pos, neg = organism_concept_codes(concept)
    return LogitDiff(cb, pos, neg, frames=frames, name=f"logit_diff[{concept}]")
