"""Continuation judges: did the continuation keep the prompt's key and tempo? (What a listener notices first.)

Each takes the prompt and the continuation (codes ``(B, K, T)``; audio judges
decode them with ``decoder``) and says per example whether the trait was kept.

* Organism (exact, from codes): :class:`OrganismKeyKept` asks the
  :class:`~musicinterp.judges.organism.KeyJudge` whether the continuation stays
  in the key estimated from the prompt; :class:`OrganismTempoKept` whether the
  exact tempo detector gives the same answer on both.
* Any model (audio, librosa): :class:`AudioKeyKept` estimates each side's key
  from its mean chroma (``librosa.feature.chroma_stft``) against the
  Krumhansl-Kessler profiles and compares their scales (a relative minor counts
  as the same key); :class:`AudioTempoKept` compares the note rates of
  :class:`~musicinterp.judges.audio.TempoJudge` (librosa onsets; beat-tracker
  tempi are ambiguous by octaves) within a tolerance.
"""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np
import torch

from ..errors import InputError
from .audio import TempoJudge, prepare
from .base import JudgeInputError, JudgeResult, decode_codes

# Krumhansl-Kessler key profiles (probe-tone ratings), tonic first
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


class KeptJudge:
    """Base: ``judge(prompt, continuation, decoder=...)`` -> :class:`JudgeResult` whose ``present`` means kept."""

    name = "kept"
    concept = ""
    needs = "codes"
    threshold = 0.0

    def __call__(self, prompt: torch.Tensor, continuation: torch.Tensor, *, decoder: Any = None,
                 sample_rate: int | None = None) -> JudgeResult:
        prompt, continuation = torch.as_tensor(prompt), torch.as_tensor(continuation)
        if prompt.dim() != 3 or continuation.dim() != 3 or prompt.shape[:2] != continuation.shape[:2]:
            raise JudgeInputError(f"prompt {tuple(prompt.shape)} and continuation {tuple(continuation.shape)} must be "
                                  "(B, K, T) codes with the same B and K")
        scores, kept = self.compare(prompt, continuation, decoder, sample_rate)
        return JudgeResult(np.asarray(scores, np.float64), np.asarray(kept, bool), self.name, self.threshold,
                           self.concept)

    def compare(self, prompt: torch.Tensor, continuation: torch.Tensor, decoder: Any,
                sample_rate: int | None) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _audio_pair(prompt: torch.Tensor, continuation: torch.Tensor, decoder: Any, sample_rate: int | None
                ) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    before, rate = decode_codes(prompt, decoder, sample_rate)
    after, _ = decode_codes(continuation, decoder, sample_rate)
    return before, after, rate


def key_profile_fits(chroma: np.ndarray) -> np.ndarray:
    """``(2, 12)`` correlation of a mean chroma ``(12,)`` with every major and minor key profile."""
    if float(np.std(chroma)) == 0.0:
        return np.zeros((2, 12))
    return np.array([[np.corrcoef(chroma, np.roll(p, t))[0, 1] for t in range(12)] for p in (KK_MAJOR, KK_MINOR)])


def mean_chroma(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(12,)`` mean chroma of one clip (``librosa.feature.chroma_stft`` at 16 kHz)."""
    return librosa.feature.chroma_stft(y=prepare(clip, sample_rate), sr=16000, tuning=0.0).mean(1)


def audio_key(clip: np.ndarray, sample_rate: int) -> tuple[int, bool, float]:
    """``(tonic, minor, fit)`` of one clip; fit 0 for silence (no key)."""
    fits = key_profile_fits(mean_chroma(clip, sample_rate))
    mode, tonic = np.unravel_index(int(np.argmax(fits)), fits.shape)
    return int(tonic), bool(mode), float(fits[mode, tonic])


class AudioKeyKept(KeptJudge):
    """Kept when both sides' best Krumhansl-Kessler keys share a scale; score = the continuation's fit to the prompt's key."""

    name, concept, needs = "kept:audio-key", "key", "audio"

    def compare(self, prompt, continuation, decoder, sample_rate):
        before, after, rate = _audio_pair(prompt, continuation, decoder, sample_rate)
        scores, kept = [], []
        for a, b in zip(before, after, strict=True):
            ta, ma, fa = audio_key(a, rate)
            fits_b = key_profile_fits(mean_chroma(b, rate))
            mb, tb = np.unravel_index(int(np.argmax(fits_b)), fits_b.shape)
            same_scale = (ta + 3 * ma) % 12 == (tb + 3 * mb) % 12  # a relative minor shares its scale
            kept.append(bool(fa > 0 and fits_b[mb, tb] > 0 and same_scale))
            scores.append(float(fits_b[int(ma), ta]))
        return np.array(scores), np.array(kept)


class AudioTempoKept(KeptJudge):
    """Score: |log2| of the ratio of note rates (:class:`TempoJudge`'s onsets); kept within ``tolerance`` (15%)."""

    name, concept, needs = "kept:audio-tempo", "tempo", "audio"

    def __init__(self, tolerance: float = 0.15) -> None:
        if not 0 < tolerance < 1:
            raise InputError(f"tolerance must be in (0, 1), got {tolerance}")
        self.threshold = float(np.log2(1 + tolerance))
        self.rate = TempoJudge()

    def compare(self, prompt, continuation, decoder, sample_rate):
        before, after, rate = _audio_pair(prompt, continuation, decoder, sample_rate)
        a = self.rate(audio=before, sample_rate=rate).scores
        b = self.rate(audio=after, sample_rate=rate).scores
        scores = np.abs(np.log2(np.maximum(b, 0.1) / np.maximum(a, 0.1)))  # silence on both sides counts as kept
        return scores, scores <= self.threshold


def continuity_judges(model: Any) -> list[KeptJudge]:
    """Key kept and tempo kept, as the model's world judges them (exact where it can be)."""
    from ..models.sources import world_of

    return world_of(model).continuity_judges()
