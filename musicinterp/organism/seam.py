"""The organism's side of the :class:`~musicinterp.world.World` seam: exact judges, grammar, tasks, pairs.

:class:`~musicinterp.organism.world.OrganismWorld` (the clip sampler) is the
organism's world: ``load_model("organism").world`` is one. Its judges are the
exact detectors, its validity the world's grammar, its default tasks
continuations of world clips and text prompts in its vocabulary.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch

from ..errors import InputError
from ..world.base import World
from . import vocab as V

CODEBOOK_NAMES = ("lead", "drums", "brightness", "bass")
CONCEPT_CODEBOOK = {"tempo": V.LEAD, "drums": V.DRUMS, "timbre": V.BRIGHT, "bass": V.BASS}  # each concept's voice
BAR_FRAMES = 32  # every voice's notes start on multiples of this from frame 0 (two slow lead notes, one bass note)
# CLAP words of the nuisance a listener hears: (present, absent) as the exact nuisance judges read them
CLAP_NUISANCE_WORDS = {"dynamics": ("loud", "quiet"), "mode": ("minor", "major")}


@lru_cache(maxsize=1)
def organism_clap() -> Any:
    """The shipped organism CLAP, loaded once per process (``load_clap("organism")``)."""
    from ..judges.clap import load_clap

    return load_clap("organism")


class OrganismSeam(World):
    """World methods of the organism; the sampler in ``world.py`` adds clip writing."""

    name = "organism"
    exact = True

    def codebook_names(self, n_codebooks: int) -> list[str]:
        return list(CODEBOOK_NAMES[:n_codebooks]) + [f"cb{k}" for k in range(len(CODEBOOK_NAMES), n_codebooks)]

    def judges(self) -> list:
        from .judges import organism_judges

        return list(organism_judges())

    def nuisance_judges(self) -> list:
        from .judges import nuisance_judges

        return list(nuisance_judges())

    def continuity_judges(self) -> list:
        from .continuity import OrganismKeyKept, OrganismTempoKept

        return [OrganismKeyKept(), OrganismTempoKept()]

    def validity(self, codes: torch.Tensor, start: int = 0) -> torch.Tensor:
        from .detectors import world_validity

        return world_validity(codes, start)

    def grammar_report(self, codes: torch.Tensor, start: int = 0) -> dict[str, torch.Tensor]:
        from .detectors import grammar_report

        return grammar_report(codes, start)

    def onset_frame(self, concept: str, prompt_frames: int, after: int = 0) -> tuple[int, int]:
        """The voice's codebook and the first continuation frame at or after ``after`` on the world's bar grid
        (every note starts on a multiple of :data:`BAR_FRAMES` from the clip's first frame)."""
        codebook = CONCEPT_CODEBOOK[self.check_concept(concept)]
        for name, value in (("prompt_frames", prompt_frames), ("after", after)):
            if value < 0:
                raise InputError(f"{name} must be >= 0, got {value}")
        return codebook, after + -(prompt_frames + after) % BAR_FRAMES

    def words(self, concept: str) -> tuple[str, str]:
        """(present, absent) words of ``concept`` in the organism's vocabulary."""
        from .prompts import phrase

        self.check_concept(concept)
        return phrase(concept, 1), phrase(concept, 0)

    def tasks(self, target: str, *, n: int = 32, prompt_frames: int = 200, new_frames: int = 200, seed: int = 0,
              add: bool = True) -> list:
        from .tasks import organism_tasks

        self.check_concept(target, "target")
        return organism_tasks(target, n=n, prompt_frames=prompt_frames, new_frames=new_frames, seed=seed, add=add)

    def clips(self, n: int, *, n_frames: int = 200, seed: int = 0) -> torch.Tensor:
        from .world import OrganismWorld

        world = OrganismWorld(n_frames)
        return torch.stack([world.sample(seed * 1_000_003 + i).codes for i in range(n)])

    def clip_pair(self, model: Any, concept: str, n: int = 8, **kwargs: Any) -> Any:
        from .pairs import organism_clip_pair

        return organism_clip_pair(model, concept, n, **kwargs)

    def prompt_pair(self, model: Any, concept: str, n: int = 8, **kwargs: Any) -> Any:
        from .pairs import organism_prompt_pair

        return organism_prompt_pair(model, concept, n, **kwargs)

    def concept_metric(self, concept: str, frames: tuple[int, int] | None = None) -> Any:
        from .pairs import concept_logit_diff

        return concept_logit_diff(concept, frames)

    def clap_judges(self, clap: Any = None, *, nuisance: bool = False) -> list:
        """CLAP zero-shot judges of the planted concepts (``nuisance``: also loud/quiet and minor/major), from the
        organism CLAP (``load_clap("organism")``) or the given handle; use beside the exact :meth:`judges`."""
        from ..judges.clap import clap_judges

        words: dict[str, tuple[str, str]] = {c: self.words(c) for c in self.concepts}
        if nuisance:
            words.update(CLAP_NUISANCE_WORDS)
        return clap_judges(clap if clap is not None else organism_clap(), words)

    def clap_measures(self, model: Any, clap: Any = None) -> list:
        """FAD/KAD embedders from the organism CLAP: ``[ClapEmbedder]`` reading ``model``'s rendered audio."""
        from ..measures import ClapEmbedder

        handle = clap if clap is not None else organism_clap()
        return [ClapEmbedder(handle.model, handle.feature_extractor, model=model)]

    def store_codes(self, store: Any, clip_ids: Any) -> torch.Tensor:
        from .store_codes import organism_store_codes

        return organism_store_codes(store, list(clip_ids))
