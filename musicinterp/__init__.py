"""musicinterp: an interpretability workbench for generative music transformers.

Trace MusicGen with nnsight, collect activations into one store, fit probe
banks and steering methods from it, steer generation, compare methods, and
view what they do. Everything a notebook needs is here: ``import musicinterp as mi``.
"""

from . import ablation, judges, sae, views
from ._version import __version__
from .ablation import AblationSpec, SweepResult, ablate, patch
from .collect import collect, collect_prompts
from .compare.matrix import SteeringMatrix, steering_matrix
from .compare.run import Comparison, Task, compare, organism_tasks, run_comparison
from .compare.tasks import continuation_task, layer_variants, text_task
from .data.concept_set import ConceptSet
from .data.manifest import ManifestError, load_manifest, to_concept_set
from .engine.generation import GenerationResult, generate
from .engine.interventions import Intervention, StepContext, StepWindow, add, apply_fn, replace
from .engine.likelihood import nll_under
from .engine.tracing import TraceResult, trace_codes
from .judges import Judge, JudgeResult
from .models import (
    CheckpointFileError,
    CheckpointNotFoundError,
    MusicGen,
    UnsupportedVariantError,
    load_model,
)
from .organism import CONCEPTS, OrganismWorld, detect_all, grammar_report, world_validity
from .organism.concept_sets import balanced_set, paired_set, prompt_codes
from .organism.metrics import organism_metrics
from .probes import ProbeBank, ProbeConfig, fit_probe_bank
from .report import Audio, Report, build_report
from .steering import (
    ApplySpec,
    Constant,
    Decay,
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    Monitor,
    MonitorCalibration,
    MonitorTrace,
    ProbeMonitor,
    RegressionConfig,
    RegressionSteerer,
    SAEConfig,
    SAEFeatureMonitor,
    SAESteerer,
    Schedule,
    SMITINConfig,
    SMITINSteerer,
    SpecError,
    SteeredResult,
    Steerer,
    SteererFileError,
    calibrate_monitor,
    steer,
)
from .store import ActivationStore, StoreError, StoreModelMismatchError
from .views.audio import players
from .views.matrix import matrix_heatmap
from .views.probes import concept_grid, head_heatmap, layer_accuracy_curve
from .views.steering import monitor_trace_figure, success_vs_fidelity


def open_store(path, *, model: MusicGen | None = None) -> ActivationStore:
    """Open a finished activation store (with ``model``: refuse one collected from another model)."""
    return ActivationStore.open(path, model=model)


load_steerer = Steerer.load

__all__ = [
    "__version__",
    # models, tracing, generation
    "load_model", "MusicGen", "CheckpointNotFoundError", "CheckpointFileError", "UnsupportedVariantError", "trace_codes", "TraceResult", "generate",
    "GenerationResult", "Intervention", "StepContext", "StepWindow", "add", "replace", "apply_fn",
    # data and concept sets
    "ConceptSet", "load_manifest", "to_concept_set", "ManifestError", "balanced_set", "paired_set", "prompt_codes",
    "CONCEPTS", "OrganismWorld", "detect_all", "grammar_report", "world_validity",
    # the store
    "collect", "collect_prompts", "open_store", "ActivationStore", "StoreError", "StoreModelMismatchError",
    # probes
    "fit_probe_bank", "ProbeBank", "ProbeConfig",
    # steering
    "Steerer", "load_steerer", "SteererFileError", "ApplySpec", "SpecError", "Schedule", "Constant", "Decay",
    "Monitor", "ProbeMonitor", "MonitorTrace", "ITISteerer", "ITIConfig", "SMITINSteerer", "SMITINConfig",
    "DiffMeansSteerer", "DiffMeansConfig", "RegressionSteerer", "RegressionConfig", "SAESteerer", "SAEConfig",
    "SAEFeatureMonitor", "steer", "SteeredResult", "MonitorCalibration", "calibrate_monitor",
    # sparse autoencoders (mi.sae.train / load / evaluate), ablation and patching, judges
    "sae", "ablation", "ablate", "patch", "SweepResult", "AblationSpec", "judges", "Judge", "JudgeResult",
    # evaluation and comparison
    "organism_metrics", "nll_under", "compare", "run_comparison", "steering_matrix", "SteeringMatrix", "Comparison", "Task", "organism_tasks",
    "text_task", "continuation_task", "layer_variants",
    # views
    "views", "head_heatmap", "concept_grid", "layer_accuracy_curve", "monitor_trace_figure", "success_vs_fidelity", "matrix_heatmap",
    "players",
    # the offline report
    "Report", "Audio", "build_report",
]
