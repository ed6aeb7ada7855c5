"""Errors of the SAE package; each names the argument, file or field at fault."""

from __future__ import annotations

from ..errors import MusicInterpError
from ..store.errors import StoreError


class SAEConfigError(ValueError, MusicInterpError):
    """A training, evaluation or steering setting is impossible (site, layer, head, dict size, k, steps...)."""


class SAEArtifactError(StoreError):
    """An SAE artifact (or training checkpoint) is missing, damaged, or inconsistent."""


class SAETrainingError(SAEConfigError):
    """The settings let training finish in a state that cannot be used (a BatchTopK run with no threshold)."""
