"""The audio world: any real or random MusicGen, judged from its decoded audio.

Concepts are what the audio judges estimate (librosa: note rate, brightness,
percussive share, low end); continuity is judged from chroma keys and note
rates. There is no grammar, and judges are estimates: validate them on the
organism (``mi.organism.validate_audio_judges``) before trusting them.
"""

from __future__ import annotations

import torch

from ..compare.tasks import Task, text_task
from ..judges import AudioKeyKept, AudioTempoKept, KeptJudge, audio_judges
from ..judges.base import Judge
from .base import World

# the positive and negative wording of each concept in a text prompt
AUDIO_CONCEPT_WORDS: dict[str, tuple[str, str]] = {
    "drums": ("with drums", "without drums"),
    "tempo": ("fast tempo", "slow tempo"),
    "timbre": ("bright", "dark"),
    "bass": ("with heavy bass", "without bass"),
}
NEUTRAL_PROMPTS = ("music", "a melody", "an instrumental piece", "a song", "a short tune", "a piece of music")


class AudioWorld(World):
    """Judges from audio (librosa) for any MusicGen; text tasks from plain-English concept words."""

    name = "audio"
    concepts = tuple(AUDIO_CONCEPT_WORDS)
    exact = False

    def judges(self) -> list[Judge]:
        return list(audio_judges())

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
