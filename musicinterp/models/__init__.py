"""Model loading and the MusicGen adapter."""

from .delay import apply_delay, undo_delay, valid_positions
from .loading import CheckpointNotFoundError, load_model
from .musicgen import Conditioning, MusicGen
from .rows import Rows, row_slice
from .sites import EXECUTION_ORDER, SITES, Site

__all__ = ["apply_delay", "undo_delay", "valid_positions", "CheckpointNotFoundError", "load_model",
           "Conditioning", "MusicGen", "Rows", "row_slice", "EXECUTION_ORDER", "SITES", "Site"]
