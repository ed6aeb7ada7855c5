"""Layer ablation and activation patching: where a concept lives, causally.

``ablate`` and ``patch`` run batched sweeps (cells folded into the batch) with
teacher-forced metrics; ``AblationSpec`` / ``ablation_interventions`` ablate
during generation and ``generate_patched`` patches a corrupt prompt's
activations into a clean prompt's generation, so the world's judges can check
the causal story. Pairs from a world's own clips: ``model.world.clip_pair`` and
``model.world.prompt_pair``; figures of the results: ``mi.views``.
"""

from .ablate import ablate, ablate_sets
from .gen_patch import PatchedGeneration, generate_patched, patch_interventions
from .generation import AblationSpec, ablation_interventions
from .inputs import AblationInputError, TeacherForced, teacher_forced
from .metrics import CrossEntropy, KLToClean, LogitDiff, Metric, ProbeScore
from .pairs import Pair, clip_pair, prompt_pair, word_swap_pair
from .patching import patch, patch_sets
from .result import SweepResult, normalise

__all__ = ["ablate", "ablate_sets", "patch", "patch_sets", "SweepResult", "normalise", "AblationSpec",
           "ablation_interventions", "generate_patched", "patch_interventions", "PatchedGeneration",
           "AblationInputError", "TeacherForced", "teacher_forced", "Metric", "CrossEntropy", "KLToClean", "LogitDiff",
           "ProbeScore", "Pair", "clip_pair", "prompt_pair", "word_swap_pair"]
