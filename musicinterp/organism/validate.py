"""Do the audio judges agree with the organism's exact detectors on rendered organism audio?

For each planted concept, world clips are drawn in pairs that differ only in
that concept (``OrganismWorld.with_concept``; the other concepts and all
nuisance random), so each set is balanced. The pairs are split by seed: the
first part calibrates the audio judge's threshold (:meth:`AudioJudge.calibrate`
rule), the disjoint rest measures agreement with the exact detector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import InputError
from ..judges.audio import AudioJudge, audio_judges, balanced_accuracy, calibrate_threshold
from .judges import OrganismJudge
from .renderer import render
from .vocab import SAMPLE_RATE
from .world import CONCEPTS, OrganismWorld

SEED_STRIDE = 1_000_003


@dataclass(frozen=True)
class ConceptAgreement:
    """Agreement of one audio judge with the exact detector on held-out clips."""

    concept: str
    judge: str
    agreement: float  # held-out, threshold calibrated on the calibration clips
    agreement_default: float  # held-out, the judge's threshold before calibration
    balanced_accuracy: float  # held-out, calibrated threshold
    threshold: float
    default_threshold: float
    calibration_accuracy: float
    n_calibration: int
    n_heldout: int
    seconds_per_clip: float  # the judge alone, on audio


@dataclass
class AgreementReport:
    """Per-concept agreement plus how the clips were made."""

    concepts: dict[str, ConceptAgreement]
    render_seconds_per_clip: float
    n_frames: int
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame([vars(a) for a in self.concepts.values()])

    def __repr__(self) -> str:
        parts = ", ".join(f"{c} {a.agreement:.1%}" for c, a in self.concepts.items())
        return f"AgreementReport(held-out agreement: {parts}; {self.n_frames} frames per clip)"


def paired_clips(concept: str, n_pairs: int, *, seed: int = 0, start: int = 0,
                 n_frames: int = 200) -> torch.Tensor:
    """``(2 * n_pairs, 4, n_frames)`` codes: world clips with ``concept`` on then off, pair by pair."""
    if concept not in CONCEPTS:
        raise InputError(f"unknown organism concept {concept!r}; known: {', '.join(CONCEPTS)}")
    world = OrganismWorld(n_frames)
    out = []
    for i in range(start, start + n_pairs):
        base = world.sample(seed * SEED_STRIDE + CONCEPTS.index(concept) * 100_000 + i)
        out.extend(world.with_concept(base, concept, v).codes for v in (1, 0))
    return torch.stack(out)


def validate_audio_judges(judges: list[AudioJudge] | None = None, *, n_per_concept: int = 256,
                          calibration_fraction: float = 0.5, n_frames: int = 200, seed: int = 0,
                          decoder: Any = None, progress: bool = True) -> AgreementReport:
    """Calibrate each judge on part of its concept's clips, then measure agreement on the disjoint rest.

    ``decoder``: a MusicGen (``mi.load_model("organism")``) whose ``codes_to_audio``
    renders; the organism's renderer is used directly when omitted. Judges are
    calibrated in place (their ``threshold`` changes).
    """
    judges = judges if judges is not None else audio_judges()
    if n_per_concept < 8 or n_per_concept % 2:
        raise InputError(f"n_per_concept must be an even number >= 8, got {n_per_concept}")
    if not 0 < calibration_fraction < 1:
        raise InputError(f"calibration_fraction must be in (0, 1), got {calibration_fraction}")
    n_pairs = n_per_concept // 2
    n_cal = max(1, min(n_pairs - 1, round(n_pairs * calibration_fraction)))
    results: dict[str, ConceptAgreement] = {}
    render_time, rendered = 0.0, 0
    for judge in tqdm(judges, desc="judges", disable=not progress):
        if judge.concept not in CONCEPTS:
            raise InputError(f"judge {judge.name!r} reads {judge.concept!r}, not an organism concept")
        codes = paired_clips(judge.concept, n_pairs, seed=seed, n_frames=n_frames)
        truth = OrganismJudge(judge.concept)(codes).present
        t0 = time.perf_counter()
        audio = decoder.codes_to_audio(codes) if decoder is not None else render(codes)
        render_time += time.perf_counter() - t0
        rendered += len(codes)
        rate = int(getattr(decoder, "sample_rate", SAMPLE_RATE))
        t0 = time.perf_counter()
        scores = judge(audio=audio, sample_rate=rate).scores
        seconds = (time.perf_counter() - t0) / len(codes)
        cal, held = slice(0, 2 * n_cal), slice(2 * n_cal, None)
        default = judge.threshold
        calibration = calibrate_threshold(scores[cal], truth[cal])
        judge.threshold = calibration.threshold
        present = judge.decide(scores[held])
        results[judge.concept] = ConceptAgreement(
            concept=judge.concept, judge=judge.name, agreement=float((present == truth[held]).mean()),
            agreement_default=float(((scores[held] > default) == truth[held]).mean()),
            balanced_accuracy=balanced_accuracy(present, truth[held]), threshold=calibration.threshold,
            default_threshold=float(default), calibration_accuracy=calibration.balanced_accuracy,
            n_calibration=2 * n_cal, n_heldout=len(codes) - 2 * n_cal, seconds_per_clip=seconds)
    return AgreementReport(results, render_time / max(rendered, 1), n_frames, seed,
                           meta={"decoder": getattr(decoder, "name", "organism renderer")})


def score_table(judges: list[AudioJudge], audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """Scores of several judges on the same audio, keyed by judge name."""
    return {j.name: j(audio=audio, sample_rate=sample_rate).scores for j in judges}
