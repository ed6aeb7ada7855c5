"""Judges: codes or audio in, a score and a yes/no per example out.

Audio-feature judges (librosa) that work on any decoded audio, a probe judge
that reads generated codes through a fitted probe bank, and continuation
judges (key kept, tempo kept). A model's world says which judges it uses
(``model.world.default_judges()``); the organism's exact detectors live in
``mi.organism``.
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
from .clap import DEFAULT_CLAP, ClapConceptJudge, ClapTextAdherence, clap_judges, load_clap
from .clap_model import ClapFileError, ClapHandle, ClapNotFoundError, DegenerateTextError
from .continuity import AudioKeyKept, AudioTempoKept, KeptJudge, continuity_judges
from .probe import ProbeJudge

__all__ = ["Judge", "BaseJudge", "JudgeResult", "JudgeInputError", "judge_all", "results_frame", "ProbeJudge",
           "AudioJudge", "TempoJudge", "BrightnessJudge", "PercussionJudge", "LowEndJudge", "audio_judges",
           "Calibration", "calibrate_threshold", "KeptJudge", "AudioKeyKept", "AudioTempoKept",
           "continuity_judges", "default_judges", "load_clap", "ClapHandle", "ClapConceptJudge", "ClapTextAdherence",
           "clap_judges", "DEFAULT_CLAP", "ClapNotFoundError", "ClapFileError", "DegenerateTextError"]


def default_judges(model) -> list:
    """Judges for a comparison on ``model``: its world's concept and nuisance judges."""
    from ..models.sources import world_of

    return world_of(model).default_judges()
