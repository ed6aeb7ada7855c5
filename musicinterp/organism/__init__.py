"""The model organism: a small MusicGen trained on a procedural music world with planted concepts.

The world writes codes directly (4 codebooks at 50 frames/s: lead melody,
drums, lead brightness, bass) from binary latent concepts plus nuisance
variation, so every concept is known exactly and readable from codes.
``load_model("organism").world`` is an :class:`OrganismWorld`: its judges are
the exact detectors, its validity the world's grammar.
"""

from ..judges.clap import CLAP_CHECKPOINTS
from . import source  # noqa: F401  (registers load_model("organism"))
from .concept_sets import balanced_set, paired_set, prompt_codes
from .continuity import OrganismKeyKept, OrganismTempoKept
from .detectors import CONCEPT_DETECTORS, detect, detect_all, grammar_report, world_validity
from .judges import DynamicsJudge, KeyJudge, ModeJudge, OrganismJudge, nuisance_judges, organism_judges
from .metrics import OrganismMetrics, organism_metrics
from .pairs import concept_logit_diff, organism_clip_pair, organism_prompt_pair
from .tasks import organism_tasks
from .validate import AgreementReport, ConceptAgreement, validate_audio_judges
from .world import CONCEPTS, Clip, Latents, Nuisance, OrganismWorld


def _shipped_clap():
    from .clap_training import SHIPPED_CLAP

    return SHIPPED_CLAP


CLAP_CHECKPOINTS["organism"] = _shipped_clap  # load_clap("organism"): the organism CLAP shipped in the package

__all__ = ["CONCEPTS", "Clip", "Latents", "Nuisance", "OrganismWorld", "CONCEPT_DETECTORS", "detect",
           "detect_all", "grammar_report", "world_validity", "balanced_set", "paired_set", "prompt_codes",
           "organism_metrics", "OrganismMetrics", "organism_tasks", "organism_judges", "nuisance_judges",
           "OrganismJudge", "KeyJudge", "ModeJudge", "DynamicsJudge", "OrganismKeyKept", "OrganismTempoKept",
           "organism_clip_pair", "organism_prompt_pair", "concept_logit_diff", "validate_audio_judges",
           "AgreementReport", "ConceptAgreement"]
