"""Model loading and the MusicGen adapter."""

from .delay import apply_delay, undo_delay, valid_positions
from .hub import CheckpointFileError, CheckpointNotFoundError
from .loading import load_model
from .musicgen import Conditioning, MusicGen
from .rows import Rows, row_slice
from .sites import EXECUTION_ORDER, SITES, Site
from .variants import UnsupportedVariantError, variant_of

__all__ = ["apply_delay", "undo_delay", "valid_positions", "CheckpointNotFoundError", "CheckpointFileError",
           "UnsupportedVariantError", "variant_of", "load_model", "Conditioning", "MusicGen", "Rows", "row_slice",
           "EXECUTION_ORDER", "SITES", "Site"]
