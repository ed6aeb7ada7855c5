"""The organism's comparison tasks: continuations of world clips, neutral and opposite text prompts."""

from __future__ import annotations

import torch

from ..compare.tasks import Task
from .prompts import phrase
from .world import CONCEPTS, OrganismWorld


def organism_tasks(target: str, *, n: int = 32, prompt_frames: int = 200, new_frames: int = 200, seed: int = 0,
                   add: bool = True) -> list[Task]:
    """Continuation of clips lacking (or, to remove, holding) ``target``, and text prompts."""
    world = OrganismWorld(prompt_frames)
    start_value = 0 if add else 1
    clips = [world.with_concept(world.sample(90_000 + seed * 1000 + i), target, start_value) for i in range(n)]
    prompt = torch.stack([c.codes for c in clips])
    others = [c for c in CONCEPTS if c != target]
    gen = torch.Generator().manual_seed(seed)
    neutral = []
    for _ in range(n):  # prompts that mention other concepts only (sometimes nothing)
        words = [phrase(c, int(torch.randint(0, 2, (1,), generator=gen))) for c in others
                 if torch.rand(1, generator=gen) < 0.5]
        neutral.append(" ".join(words))
    opposite = [phrase(target, 0 if add else 1)] * n
    return [
        Task("continuation", {"prompt_codes": prompt, "batch": n, "n_frames": new_frames}, prompt_frames),
        Task("text", {"text": neutral, "n_frames": new_frames}),
        Task("text-opposite", {"text": opposite, "n_frames": new_frames}),
    ]
