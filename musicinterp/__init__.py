"""musicinterp: an interpretability workbench for generative music transformers.

Trace MusicGen with nnsight, collect activations into one store, fit and
compare steering methods, and view what they do.
"""

from .generation import GenerationResult, generate
from .interventions import Intervention, StepContext, StepWindow, add, apply_fn, replace
from .models import CheckpointNotFoundError, MusicGen, load_model
from .tracing import TraceResult, trace_codes

__version__ = "0.1.0"

__all__ = [
    "__version__", "load_model", "MusicGen", "CheckpointNotFoundError", "generate", "GenerationResult",
    "trace_codes", "TraceResult", "Intervention", "StepContext", "StepWindow", "add", "replace", "apply_fn",
]
