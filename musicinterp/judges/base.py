"""The Judge protocol: codes or audio in, a score and a yes/no per example out.

A judge that cannot tell for an example (the organism's mode with no bass
sounding) scores it NaN: the example is *undecided*, counts as "absent" in
``present`` and is left out of ``rate``.

Every judge declares the ``concept`` it reads, what it ``needs`` (``"codes"`` or
``"audio"``) and the ``threshold`` above which the concept counts as present.
Audio judges also accept codes together with a ``decoder`` (a :class:`MusicGen`,
or any callable ``codes -> audio`` plus ``sample_rate``), so the same call works
on the organism and on real MusicGen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch

from ..errors import InputError, MusicInterpError

Needs = Literal["codes", "audio"]
AudioInput = np.ndarray | torch.Tensor | Sequence[np.ndarray]


class JudgeInputError(ValueError, MusicInterpError):
    """A judge was given input it cannot read (missing, wrong shape, wrong type); the message names the argument."""


@dataclass(frozen=True)
class JudgeResult:
    """Scores ``(B,)`` (float64) and yes/no ``(B,)`` (bool) of one judge over a batch."""

    scores: np.ndarray
    present: np.ndarray
    name: str
    threshold: float
    concept: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scores.shape != self.present.shape or self.scores.ndim != 1:
            raise InputError(f"scores {self.scores.shape} and present {self.present.shape} must be equal (B,) shapes")

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @property
    def decided(self) -> np.ndarray:
        """``(B,)`` bool: the examples the judge could decide (a NaN score is undecided)."""
        return ~np.isnan(self.scores)

    @property
    def rate(self) -> float:
        """Fraction of the decided examples where the concept is present (NaN when none is decided)."""
        decided = self.decided
        return float(self.present[decided].mean()) if decided.any() else float("nan")

    def agreement(self, truth: np.ndarray | torch.Tensor | Sequence[int] | JudgeResult) -> float:
        """Fraction of examples where this judge's yes/no equals ``truth`` (labels or another result)."""
        ref = truth.present if isinstance(truth, JudgeResult) else np.asarray(torch.as_tensor(truth).cpu()).astype(bool)
        if ref.shape != self.present.shape:
            raise JudgeInputError(f"truth has shape {ref.shape}, this result has {self.present.shape}")
        return float((ref == self.present).mean())

    def __repr__(self) -> str:
        n, decided = len(self), int(self.decided.sum())
        spread = f", scores {np.nanmin(self.scores):.3g}..{np.nanmax(self.scores):.3g}" if decided else ""
        undecided = f", {n - decided} undecided" if decided < n else ""
        return (f"JudgeResult({self.name}: {int(self.present.sum())}/{n} present{undecided}, "
                f"threshold {self.threshold:.4g}{spread})")

    def to_pandas(self):
        """One row per example: ``example``, ``judge``, ``concept``, ``score``, ``present``, ``threshold``."""
        import pandas as pd

        return pd.DataFrame({"example": np.arange(len(self)), "judge": self.name, "concept": self.concept,
                             "score": self.scores, "present": self.present, "threshold": self.threshold})


@runtime_checkable
class Judge(Protocol):
    """What every judge offers; :class:`BaseJudge` implements the input handling."""

    name: str
    concept: str
    needs: Needs
    threshold: float

    def __call__(self, codes: torch.Tensor | None = None, *, audio: AudioInput | None = None,
                 sample_rate: int | None = None, decoder: Any = None) -> JudgeResult: ...


def check_sample_rate(sample_rate: Any, argument: str = "sample_rate") -> int:
    """A positive integer sample rate (numpy integers and integral floats accepted)."""
    if sample_rate is None:
        raise JudgeInputError(f"{argument} is required with audio (an int in Hz, e.g. 32000)")
    if isinstance(sample_rate, (bool, np.bool_)) or not isinstance(sample_rate, (int, float, np.integer, np.floating)):
        raise JudgeInputError(f"{argument} must be an int in Hz, got {type(sample_rate).__name__} {sample_rate!r}")
    if float(sample_rate) != int(sample_rate) or int(sample_rate) <= 0:
        raise JudgeInputError(f"{argument} must be a positive whole number of Hz, got {sample_rate!r}")
    return int(sample_rate)


def as_audio_list(audio: AudioInput, argument: str = "audio") -> list[np.ndarray]:
    """``(samples,)``, ``(B, samples)`` or a list of 1-D arrays -> list of finite float32 mono clips."""
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    if isinstance(audio, np.ndarray):
        if audio.ndim == 1:
            clips = [audio]
        elif audio.ndim == 2:
            clips = list(audio)
        else:
            raise JudgeInputError(f"{argument} must be (samples,) or (B, samples) mono audio, "
                                  f"got shape {audio.shape}")
    elif isinstance(audio, (list, tuple)):
        clips = [np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a) for a in audio]
    else:
        raise JudgeInputError(f"{argument} must be a numpy array, tensor or list of 1-D arrays, "
                              f"got {type(audio).__name__}")
    out = []
    for i, clip in enumerate(clips):
        if clip.ndim != 1:
            raise JudgeInputError(f"{argument}[{i}] must be 1-D mono samples, got shape {clip.shape}")
        if not np.issubdtype(clip.dtype, np.floating):
            raise JudgeInputError(f"{argument}[{i}] must hold float samples in [-1, 1], got dtype {clip.dtype}")
        if not np.isfinite(clip).all():
            raise JudgeInputError(f"{argument}[{i}] contains NaN or inf samples")
        out.append(clip.astype(np.float32, copy=False))
    if not out:
        raise JudgeInputError(f"{argument} holds no clips")
    return out


def decode_codes(codes: torch.Tensor, decoder: Any, sample_rate: int | None) -> tuple[list[np.ndarray], int]:
    """Audio for ``codes`` from ``decoder``: a MusicGen-like object (``codes_to_audio``, ``sample_rate``) or a callable."""
    if decoder is None:
        raise JudgeInputError("this judge reads audio: pass audio=... with sample_rate=..., or codes with "
                              "decoder=model (a MusicGen, e.g. mi.load_model('organism'), or a callable codes -> audio)")
    if hasattr(decoder, "codes_to_audio"):
        rate = check_sample_rate(sample_rate if sample_rate is not None else getattr(decoder, "sample_rate", None))
        audio = decoder.codes_to_audio(torch.as_tensor(codes))
    elif callable(decoder):
        if sample_rate is None:
            raise JudgeInputError("decoder is a plain callable: also pass sample_rate=... (its output rate in Hz)")
        rate = check_sample_rate(sample_rate)
        audio = decoder(torch.as_tensor(codes))
    else:
        raise JudgeInputError(f"decoder must be a MusicGen (with codes_to_audio) or a callable, "
                              f"got {type(decoder).__name__}")
    return as_audio_list(audio, "decoded audio"), rate


class BaseJudge:
    """Input handling shared by all judges; subclasses implement ``score_codes`` or ``score_audio``."""

    name: str = "judge"
    concept: str = ""
    needs: Needs = "codes"
    threshold: float = 0.0

    def __call__(self, codes: torch.Tensor | None = None, *, audio: AudioInput | None = None,
                 sample_rate: int | None = None, decoder: Any = None) -> JudgeResult:
        if codes is None and audio is None:
            raise JudgeInputError(f"judge {self.name!r} needs {self.needs}: pass "
                                  + ("codes=..." if self.needs == "codes" else "audio=... with sample_rate=..."))
        if self.needs == "codes":
            if codes is None:
                scores = self.score_audio_as_codes(as_audio_list(audio), check_sample_rate(sample_rate))
            else:
                scores = self.score_codes(codes)
        else:
            if audio is not None:
                clips, rate = as_audio_list(audio), check_sample_rate(sample_rate)
            else:
                clips, rate = decode_codes(codes, decoder, sample_rate)
            scores = self.score_audio(clips, rate)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        return JudgeResult(scores=scores, present=self.decide(scores), name=self.name,
                           threshold=float(self.threshold), concept=self.concept)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """Yes/no: the score exceeds the threshold (an undecided NaN score is "no")."""
        return np.nan_to_num(scores, nan=-np.inf) > self.threshold

    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        raise JudgeInputError(f"judge {self.name!r} reads audio, not codes: pass audio=... or decoder=...")

    def score_audio(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        raise JudgeInputError(f"judge {self.name!r} reads codes: pass codes=...")

    def score_audio_as_codes(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        """Code judges given audio: only those that own a codec (probe judges) can encode it."""
        raise JudgeInputError(f"judge {self.name!r} reads codes, not audio: pass codes=... "
                              "(encode audio with model.audio_to_codes first)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, concept={self.concept!r}, needs={self.needs!r}, " \
               f"threshold={self.threshold:.4g})"


def judge_all(judges: Sequence[Judge], codes: torch.Tensor | None = None, *, audio: AudioInput | None = None,
              sample_rate: int | None = None, decoder: Any = None) -> dict[str, JudgeResult]:
    """Run several judges on the same examples, decoding codes to audio at most once."""
    need_audio = any(j.needs == "audio" for j in judges)
    if need_audio and audio is None and codes is not None:
        clips, sample_rate = decode_codes(codes, decoder, sample_rate)
        audio = clips
    out: dict[str, JudgeResult] = {}
    for judge in judges:
        if judge.needs == "audio":
            out[judge.name] = judge(audio=audio, sample_rate=sample_rate)
        else:
            out[judge.name] = judge(codes, audio=audio if codes is None else None, sample_rate=sample_rate)
    return out


def results_frame(results: dict[str, JudgeResult]):
    """Results of :func:`judge_all` as one long pandas table."""
    import pandas as pd

    return pd.concat([r.to_pandas() for r in results.values()], ignore_index=True)


@dataclass(frozen=True)
class Limits:
    """The bars a steered setting must clear, as judged: success at least, validity at least, collateral at most
    (the comparison's verdicts and the strength finder read the same limits)."""

    min_success: float = 0.9
    min_validity: float = 0.95
    max_collateral: float = 0.10
