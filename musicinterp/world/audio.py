"""The audio world: any real or random MusicGen, judged from its decoded audio.

Concepts are what the audio judges estimate (librosa: note rate, brightness,
percussive share, low end) and, when a CLAP checkpoint is at hand (a folder, or
``laion/clap-htsat-unfused`` in the Hugging Face cache), CLAP's zero-shot
judges of the same concepts, which then read success first; continuity is
judged from chroma keys and note rates. There is no grammar, and judges are
estimates: validate them on the organism (``mi.organism.validate_audio_judges``)
before trusting them.
"""

from __future__ import annotations

from typing import Any

import torch

from ..compare.tasks import Task, text_task
from ..judges import AudioKeyKept, AudioTempoKept, KeptJudge, audio_judges
from ..judges.base import Judge
from ..judges.clap import DEFAULT_CLAP, clap_judges, load_clap
from ..judges.clap_model import ClapHandle, ClapNotFoundError
from ..measures import ClapEmbedder
from .base import World

# the positive and negative wording of each concept in a text prompt
AUDIO_CONCEPT_WORDS: dict[str, tuple[str, str]] = {  # reads in prompts and in CLAP's templates ("music with {}")
    "drums": ("drums", "no drums"),
    "tempo": ("a fast tempo", "a slow tempo"),
    "timbre": ("a bright sound", "a dark sound"),
    "bass": ("heavy bass", "no bass"),
}
NEUTRAL_PROMPTS = ("music", "a melody", "an instrumental piece", "a song", "a short tune", "a piece of music")


class AudioWorld(World):
    """Judges from audio (librosa) for any MusicGen; text tasks from plain-English concept words."""

    name = "audio"
    concepts = tuple(AUDIO_CONCEPT_WORDS)
    exact = False

    def __init__(self, clap: ClapHandle | str | None = "auto") -> None:
        """``clap``: a loaded :class:`ClapHandle`, a checkpoint (folder, cached id, named), ``None`` for no CLAP,
        or ``"auto"``: the default checkpoint when the cache holds it, else none."""
        self._clap: Any = clap

    @property
    def clap(self) -> ClapHandle | None:
        """The CLAP model the world's CLAP judges use, loaded on first use (``None`` without one)."""
        if isinstance(self._clap, str):
            try:
                self._clap = load_clap(DEFAULT_CLAP if self._clap == "auto" else self._clap)
            except ClapNotFoundError:
                if self._clap != "auto":
                    raise
                self._clap = None
        return self._clap

    def judges(self) -> list[Judge]:
        """CLAP's zero-shot judges first when a CLAP model is at hand (they read success), then the librosa ones."""
        return [*self.clap_judges(), *audio_judges()]

    def default_measures(self, model: Any) -> list[Any]:
        """CLAP embeddings (FAD, KAD, preservation) when a CLAP model is at hand."""
        return self.clap_measures(model)

    def clap_judges(self, clap: Any = None, *, nuisance: bool = False) -> list[Judge]:
        """CLAP's zero-shot judges of the audio concepts, from ``clap`` or the world's CLAP (none without one)."""
        handle = clap if clap is not None else self.clap
        return [] if handle is None else clap_judges(handle, AUDIO_CONCEPT_WORDS)

    def clap_measures(self, model: Any, clap: Any = None) -> list[Any]:
        handle = clap if clap is not None else self.clap
        return [] if handle is None else [ClapEmbedder(handle.model, handle.feature_extractor, model=model)]

    def continuity_judges(self) -> list[KeptJudge]:
        return [AudioKeyKept(), AudioTempoKept()]

    def words(self, concept: str) -> tuple[str, str]:
        """(present, absent) wording of ``concept`` for text prompts."""
        return AUDIO_CONCEPT_WORDS[self.check_concept(concept)]

    def tasks(self, target: str, *, n: int = 32, prompt_frames: int = 200, new_frames: int = 200, seed: int = 0,
              add: bool = True) -> list[Task]:
        """Neutral text prompts, and prompts asking for the opposite of the steering goal.

        There are no continuation prompts without the user's own clips: build one
        with ``mi.compare.continuation_task`` from codes of real music."""
        present, absent = self.words(target)
        gen = torch.Generator().manual_seed(seed)
        picks = torch.randint(0, len(NEUTRAL_PROMPTS), (n,), generator=gen).tolist()
        neutral = [NEUTRAL_PROMPTS[i] for i in picks]
        opposite = [f"{NEUTRAL_PROMPTS[i]}, {absent if add else present}" for i in picks]
        return [text_task("text", neutral, n_frames=new_frames),
                text_task("text-opposite", opposite, n_frames=new_frames)]
