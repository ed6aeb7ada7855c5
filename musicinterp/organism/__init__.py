"""The model organism: a small MusicGen trained on a procedural music world with planted concepts.

The world writes codes directly (4 codebooks at 50 frames/s: lead melody,
drums, lead brightness, bass) from binary latent concepts plus nuisance
variation, so every concept is known exactly and readable from codes.
"""

from .detectors import CONCEPT_DETECTORS, detect, detect_all, grammar_report, world_validity
from .world import CONCEPTS, Clip, Latents, Nuisance, OrganismWorld

__all__ = ["CONCEPTS", "Clip", "Latents", "Nuisance", "OrganismWorld", "CONCEPT_DETECTORS", "detect",
           "detect_all", "grammar_report", "world_validity"]
