"""Judges that read the organism's codes exactly: its four planted concepts and its nuisance (key, mode, dynamics).

The concept judges wrap :mod:`musicinterp.organism.detectors` (ground truth for
steering on the organism). The nuisance judges read what the world writes:

* key: the lead's pitch classes (and the bass roots) against the 24 major and
  minor scales. The world's lead plays the scale of tonic ``(nuisance.key + 7) % 12``
  and the bass plays roots ``tonic + {0, 2, 5, 10}``.
* mode: minor vs major. Relative keys share their pitch classes, so the lead
  alone cannot tell them apart; the bass roots can. With no bass onset, or
  roots that fit a major and a minor key equally well, the mode cannot be
  heard: the score is NaN (undecided, left out of the rate), so adding or
  removing bass does not read as a change of mode.
* dynamics: the mean velocity of the lead's onsets (0..2). The world draws
  ``dynamics`` in 0..2 and lead velocities ``dynamics + {-1, 0, 1}`` clipped to 0..2,
  so the means are 1/3, 1 and 5/3; "loud" (dynamics 2) is above 4/3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import InputError
from ..judges.base import BaseJudge, JudgeInputError
from . import vocab as V
from .detectors import CONCEPT_DETECTORS, _as_batch
from .world import MAJOR, MINOR

BASS_ROOT_OFFSETS = (0, 2, 5, 10)  # bass roots relative to the lead's tonic (world.PROGRESSIONS shifted by key+7)
LOUD_THRESHOLD = 4.0 / 3.0  # halfway between the mean lead velocity of dynamics 1 (1.0) and 2 (5/3)


class OrganismJudge(BaseJudge):
    """One planted concept read exactly from codes by the organism's detector (score in the detector's unit)."""

    needs = "codes"

    def __init__(self, concept: str) -> None:
        if concept not in CONCEPT_DETECTORS:
            raise InputError(f"unknown organism concept {concept!r}; known: {', '.join(CONCEPT_DETECTORS)}")
        self.concept = concept
        self.name = f"organism:{concept}"
        self.detector = CONCEPT_DETECTORS[concept]
        self.threshold = float(self.detector.threshold)
        self.unit = self.detector.unit

    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        return self.detector.score(_check_codes(codes)).double().numpy()


def organism_judges() -> list[OrganismJudge]:
    """The exact judge of every planted concept, in the world's order."""
    return [OrganismJudge(c) for c in CONCEPT_DETECTORS]


# ----------------------------------------------------------------------------- nuisance
def _check_codes(codes: torch.Tensor) -> torch.Tensor:
    try:
        return _as_batch(torch.as_tensor(codes).cpu())
    except ValueError as err:
        raise JudgeInputError(f"codes: {err}") from None


def _pitch_class_counts(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per clip, how many lead onsets and bass onsets fall on each pitch class: two ``(B, 12)`` tensors."""
    lead, bass = codes[:, V.LEAD], codes[:, V.BASS]
    lead_on = (lead >= 1) & (lead < V.LEAD_ONSET_MAX)
    bass_on = (bass >= 1) & (bass < V.BASS_ONSET_MAX)
    lead_pc = (V.LEAD_LOW_MIDI + (lead - 1).clamp_min(0) // V.LEAD_VELOCITIES) % 12
    bass_pc = (V.BASS_LOW_MIDI + (bass - 1).clamp_min(0) // V.BASS_VELOCITIES) % 12
    lead_counts = torch.zeros(codes.shape[0], 12).scatter_add_(1, lead_pc, lead_on.float())
    bass_counts = torch.zeros(codes.shape[0], 12).scatter_add_(1, bass_pc, bass_on.float())
    return lead_counts, bass_counts


def _templates(steps: Sequence[int]) -> torch.Tensor:
    """``(12, 12)`` membership: row = tonic, column = pitch class."""
    base = torch.zeros(12)
    base[list(steps)] = 1.0
    return torch.stack([torch.roll(base, t) for t in range(12)])


def key_fits(codes: torch.Tensor) -> torch.Tensor:
    """``(B, 2, 12)`` fit of every (mode, tonic): lead onsets in the scale plus bass onsets on its roots (fractions)."""
    lead, bass = _pitch_class_counts(_check_codes(codes))
    lead_frac = lead / lead.sum(1, keepdim=True).clamp_min(1)
    bass_frac = bass / bass.sum(1, keepdim=True).clamp_min(1)
    roots = _templates(BASS_ROOT_OFFSETS)
    fits = [lead_frac @ _templates(scale).T + bass_frac @ roots.T for scale in (MAJOR, MINOR)]
    return torch.stack(fits, dim=1)


def estimate_key(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per clip the best-fitting ``(tonic pitch class, minor)``; relative-key ties go to major."""
    fits = key_fits(codes)
    flat = fits.reshape(fits.shape[0], -1)
    best = flat.argmax(1)  # first maximum: major before minor
    return best % 12, (best // 12).bool()


class ModeJudge(BaseJudge):
    """Minor (present) vs major: best minor fit minus best major fit; NaN (undecided) where they tie."""

    needs = "codes"
    concept = "mode"
    name = "organism:mode"
    threshold = 0.0

    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        fits = key_fits(codes)
        score = (fits[:, 1].amax(1) - fits[:, 0].amax(1)).double()
        # no bass onset, or roots that fit a major and a minor key equally well: the mode cannot be heard
        return torch.where(score.abs() > 1e-9, score, torch.nan).numpy()


class KeyJudge(BaseJudge):
    """Whether each clip is in a given key: score = fraction of lead onsets inside that scale.

    ``tonic`` (pitch class 0..11, C = 0) is one value or one per example; ``minor``
    picks the scale (``None``: major, which holds the same pitch classes as its
    relative minor). Off-scale notes arise only where the world clips the lead
    to its range, so the default threshold is 0.9.
    """

    needs = "codes"
    concept = "key"

    def __init__(self, tonic: int | Sequence[int], minor: bool = False, threshold: float = 0.9) -> None:
        self.tonic = torch.as_tensor(tonic, dtype=torch.long).reshape(-1)
        if ((self.tonic < 0) | (self.tonic > 11)).any():
            raise InputError(f"tonic must be pitch classes 0..11, got {self.tonic.tolist()}")
        self.minor = bool(minor)
        self.threshold = float(threshold)
        self.name = f"organism:key{'-minor' if minor else ''}"

    @classmethod
    def like(cls, reference: torch.Tensor, threshold: float = 0.9) -> KeyJudge:
        """A judge asking, per example, whether it stays in the key estimated from ``reference`` codes."""
        tonic, minor = estimate_key(reference)
        # a relative minor holds the major scale three semitones up: judge every example on the major form
        major_tonic = torch.where(minor, (tonic + 3) % 12, tonic)
        return cls(major_tonic.tolist(), minor=False, threshold=threshold)

    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        lead, _ = _pitch_class_counts(_check_codes(codes))
        if self.tonic.numel() not in (1, lead.shape[0]):
            raise JudgeInputError(f"KeyJudge has {self.tonic.numel()} tonics but codes hold {lead.shape[0]} clips")
        member = _templates(MINOR if self.minor else MAJOR)[self.tonic.expand(lead.shape[0])]
        inside = (lead * member).sum(1)
        return (inside / lead.sum(1).clamp_min(1)).double().numpy()

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.threshold


class DynamicsJudge(BaseJudge):
    """Loud (the world's top dynamics level): mean velocity of the lead's onsets (0..2) above 4/3."""

    needs = "codes"
    concept = "dynamics"
    name = "organism:dynamics"
    threshold = LOUD_THRESHOLD

    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        lead = _check_codes(codes)[:, V.LEAD]
        onset = (lead >= 1) & (lead < V.LEAD_ONSET_MAX)
        velocity = ((lead - 1).clamp_min(0) % V.LEAD_VELOCITIES).float()
        total = (velocity * onset).sum(1)
        return (total / onset.sum(1).clamp_min(1)).double().numpy()


def nuisance_judges() -> list[BaseJudge]:
    """Judges of the nuisance a listener notices: mode and dynamics (key needs a target: :class:`KeyJudge`)."""
    return [ModeJudge(), DynamicsJudge()]
