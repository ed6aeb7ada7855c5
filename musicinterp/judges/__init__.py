"""Judges: codes or audio in, a score and a yes/no per example out.

The organism's exact detectors (and its key, mode and dynamics nuisances), a
probe judge that reads generated codes through a fitted probe bank,
audio-feature judges (librosa) that work on any decoded audio, and
continuation judges (key kept, tempo kept).
"""

from .audio import (
    AudioJudge,
    BrightnessJudge,
    Calibration,
    LowEndJudge,
    PercussionJudge,
    TempoJudge,
    audio_judges,
    calibrate_threshold,
)
from .base import BaseJudge, Judge, JudgeInputError, JudgeResult, judge_all, results_frame
from .continuity import (
    AudioKeyKept,
    AudioTempoKept,
    KeptJudge,
    OrganismKeyKept,
    OrganismTempoKept,
    continuity_judges,
)
from .organism import DynamicsJudge, KeyJudge, ModeJudge, OrganismJudge, nuisance_judges, organism_judges
from .probe import ProbeJudge
from .validate import AgreementReport, ConceptAgreement, validate_audio_judges

__all__ = ["Judge", "BaseJudge", "JudgeResult", "JudgeInputError", "judge_all", "results_frame", "OrganismJudge",
           "organism_judges", "KeyJudge", "ModeJudge", "DynamicsJudge", "nuisance_judges", "ProbeJudge",
           "AudioJudge", "TempoJudge", "BrightnessJudge", "PercussionJudge", "LowEndJudge", "audio_judges",
           "Calibration", "calibrate_threshold", "AgreementReport", "ConceptAgreement", "validate_audio_judges",
           "KeptJudge", "OrganismKeyKept", "OrganismTempoKept", "AudioKeyKept", "AudioTempoKept",
           "continuity_judges", "default_judges"]


def default_judges(model) -> list:
    """Judges for a comparison on ``model``: the organism's exact concept and nuisance judges, else audio judges."""
    if getattr(model, "source", None) == "organism":
        return [*organism_judges(), *nuisance_judges()]
    return list(audio_judges())
