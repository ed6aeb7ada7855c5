"""The engine: tracing, generation with interventions, keyed sampling, frame policies and likelihoods."""

from .generation import GenerationResult, generate
from .interventions import Intervention, StepContext, StepWindow, add, apply_fn, replace
from .likelihood import nll_under
from .tracing import TraceResult, trace_codes

__all__ = ["generate", "GenerationResult", "trace_codes", "TraceResult", "nll_under", "Intervention", "StepContext",
           "StepWindow", "add", "replace", "apply_fn"]
