"""The ``World`` seam: what a model's world knows, asked by generic code instead of the model's source.

A world names its concepts and codebooks, gives the judges that read them
(target concepts, nuisances, continuity), a grammar where one exists, default
comparison tasks, recommended strength sweeps and default strengths. The
organism's world is exact (detectors read codes); the audio world serves any
real or random MusicGen through audio measures. ``load_model`` attaches one
as ``model.world`` (see :mod:`musicinterp.models.sources`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from ..compare.run import DEFAULT_SWEEPS
from ..errors import MusicInterpError
from ..models.delay import emit_step

if TYPE_CHECKING:
    from ..ablation.metrics import Metric
    from ..ablation.pairs import Pair
    from ..compare.tasks import Task
    from ..judges import Judge, KeptJudge
    from ..models.musicgen import MusicGen


class WorldError(ValueError, MusicInterpError):
    """The model's world cannot do what was asked (an unknown concept, no exact clips, no grammar...)."""


class World:
    """Base of every world: defaults that hold for any MusicGen; subclasses say what they know."""

    name: str = "world"
    concepts: tuple[str, ...] = ()
    exact: bool = False  # judges read ground truth (detectors on codes), not estimates from audio

    # --------------------------------------------------------------- names
    def codebook_names(self, n_codebooks: int) -> list[str]:
        """Names of the codebooks, for axes and tables."""
        return [f"cb{k}" for k in range(n_codebooks)]

    def check_concept(self, concept: str, what: str = "concept") -> str:
        if concept not in self.concepts:
            raise WorldError(f"{what}: unknown concept {concept!r} in the {self.name} world; known: "
                             f"{', '.join(self.concepts) or 'none'}")
        return concept

    # -------------------------------------------------------------- judges
    def judges(self) -> list[Judge]:
        """One judge per concept: success is read from the target concept's judge."""
        return []

    def nuisance_judges(self) -> list[Judge]:
        """Judges of what varies but is no concept (key, mode, dynamics...): collateral only."""
        return []

    def continuity_judges(self) -> list[KeptJudge]:
        """For continuations: did the continuation keep the prompt's key and tempo?"""
        return []

    def default_judges(self) -> list[Judge]:
        """What a comparison reads by default: the concept judges, then the nuisances."""
        return [*self.judges(), *self.nuisance_judges()]

    def clap_judges(self, clap: Any = None, *, nuisance: bool = False) -> list[Judge]:
        """CLAP zero-shot judges of the concepts, to read beside :meth:`judges` (none by default; a world with
        a CLAP model, e.g. the organism's own, offers them)."""
        return []

    def clap_measures(self, model: MusicGen, clap: Any = None) -> list[Any]:
        """CLAP embedders for FAD, KAD and preservation (none by default)."""
        return []

    def default_measures(self, model: MusicGen) -> list[Any]:
        """Embedders a comparison measures FAD, KAD and preservation with by default (none: opt in with
        ``compare(..., measures=[...])``, e.g. ``mi.measures.MelEmbedder(model)``)."""
        return []

    # ------------------------------------------------------------- grammar
    def validity(self, codes: torch.Tensor, start: int = 0) -> torch.Tensor | None:
        """Per clip, whether the codes from frame ``start`` on obey the world's grammar, the frames before it
        (a prompt) read as context; ``None`` where the world has none."""
        return None

    def grammar_report(self, codes: torch.Tensor, start: int = 0) -> dict[str, torch.Tensor] | None:
        """Grammar violations by kind, per clip, from frame ``start`` on; ``None`` where the world has no
        grammar."""
        return None

    # ------------------------------------------------------------ steering
    def onset_frame(self, concept: str, prompt_frames: int, after: int = 0) -> tuple[int, int] | None:
        """``(codebook, frame)``: the codebook of ``concept``'s voice and the first frame, at least ``after``
        frames into the continuation of a prompt of ``prompt_frames`` (counted from the continuation's start),
        on the world's note grid, where that voice may open a note; ``None`` where the world knows no grid."""
        return None

    def onset_step(self, concept: str, prompt_frames: int, after: int = 0) -> int | None:
        """The first continuation step at which an edit toward ``concept`` lets its voice open a note on the
        world's grid (``ApplySpec(start=...)``): :meth:`onset_frame` through MusicGen's delay pattern;
        ``None`` where the world knows no grid. ``after`` lets the model play that many frames unsteered
        first: from text alone it settles what the text left open (tempo, loudness, the other voices) in
        its first bar, and an edit that waits for it moves those less."""
        found = self.onset_frame(concept, prompt_frames, after)
        return None if found is None else emit_step(*found)

    @property
    def sweeps(self) -> dict[str, list[float]]:
        """Recommended strengths per method (by variant name, else method family)."""
        return {k: list(v) for k, v in DEFAULT_SWEEPS.items()}

    def default_strength(self, method: str) -> float:
        """The strength to try first: the middle of the method's recommended sweep."""
        family = method.split("@", 1)[0]
        sweep = self.sweeps.get(family) or self.sweeps.get(family.split("-", 1)[0])
        if not sweep:
            raise WorldError(f"method: no recommended sweep for {method!r}; known: {', '.join(self.sweeps)}")
        return float(sorted(sweep)[len(sweep) // 2])

    # ------------------------------------------------------ data and tasks
    def tasks(self, target: str, *, n: int = 32, prompt_frames: int = 200, new_frames: int = 200, seed: int = 0,
              add: bool = True) -> list[Task]:
        """Default comparison tasks for steering ``target`` in (``add``) or out."""
        raise WorldError(f"the {self.name} world has no default tasks; build them with mi.compare.text_task or "
                         f"mi.compare.continuation_task")

    def clips(self, n: int, *, n_frames: int = 200, seed: int = 0) -> torch.Tensor:
        """``n`` clips ``(n, K, n_frames)`` of codes written by the world (teacher-forcing inputs)."""
        raise WorldError(f"the {self.name} world writes no clips; pass codes or audio of your own")

    def clip_pair(self, model: MusicGen, concept: str, n: int = 8, **kwargs: Any) -> Pair:
        """Clips with ``concept`` (clean) and the same clips without it (corrupt), for patching."""
        raise WorldError(f"the {self.name} world cannot write paired clips; build a pair from your own clips "
                         f"with mi.ablation.clip_pair")

    def prompt_pair(self, model: MusicGen, concept: str, n: int = 8, **kwargs: Any) -> Pair:
        """The concept's words against their opposite on the same clips, for patching."""
        raise WorldError(f"the {self.name} world has no concept words; build a pair with mi.ablation.prompt_pair")

    def concept_metric(self, concept: str, frames: tuple[int, int] | None = None) -> Metric:
        """A logit-difference metric for ``concept`` (its codes against their absence)."""
        raise WorldError(f"metric: the {self.name} world names no codes for {concept!r}; build a "
                         f"LogitDiff(codebook, positive, negative) with your own codes")

    def store_codes(self, store: Any, clip_ids: Sequence[str]) -> torch.Tensor:
        """The codes of a store's clips, rewritten from the world where the store holds none."""
        raise WorldError(f"store {getattr(store, 'root', store)} holds no codes and the {self.name} world cannot "
                         f"rewrite its clips; pass its clips (the ConceptSet, or codes) with clips=")

    def concept_rates(self, codes: torch.Tensor, decoder: Any = None) -> dict[str, float]:
        """Per concept, the share of clips whose judge says present (audio judges decode with ``decoder``)."""
        from ..judges import judge_all

        judges = self.judges()
        results = judge_all(judges, codes, decoder=decoder)
        return {j.concept: results[j.name].rate for j in judges}

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "estimated"
        return f"{type(self).__name__}({self.name!r}, concepts={list(self.concepts)}, {kind} judges)"
