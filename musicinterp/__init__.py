"""musicinterp: an interpretability workbench for generative music transformers.

Trace MusicGen with nnsight, collect activations into one store, fit probe
banks and steering methods from it, steer generation, compare methods, and
view what they do. Everything a notebook needs is here: ``import musicinterp as mi``.
Each model carries its world (``model.world``: concepts, judges, tasks); the
model organism's own tools live under ``mi.organism``.
"""

from . import ablation, engine, judges, organism, sae, steering, views, world  # noqa: F401  (reachable as mi.engine, mi.steering, mi.world)
from ._deprecated import deprecated_getattr
from ._version import __version__
from .ablation import SweepResult, ablate, patch
from .collect import collect, collect_prompts
from .compare.matrix import SteeringMatrix, steering_matrix
from .compare.run import Comparison, compare, run_comparison
from .compare.tasks import Task, continuation_task, text_task
from .data.concept_set import ConceptSet
from .data.manifest import load_manifest, to_concept_set
from .engine.generation import generate
from .engine.interventions import Intervention, add
from .engine.likelihood import nll_under
from .engine.tracing import trace_codes
from .errors import MusicInterpError
from .judges import Judge
from .models import CheckpointNotFoundError, MusicGen, load_model
from .probes import ProbeBank, ProbeConfig, fit_probe_bank
from .report import Report, build_report
from .steering import (
    ApplySpec,
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    ProbeMonitor,
    RegressionConfig,
    RegressionSteerer,
    SAESteerer,
    SAESteererConfig,
    Schedule,
    SMITINConfig,
    SMITINSteerer,
    Steerer,
    calibrate_monitor,
    steer,
)
from .store import ActivationStore, StoreError
from .views.audio import players
from .views.matrix import matrix_heatmap
from .views.probes import head_heatmap
from .views.steering import monitor_trace_figure
from .world import World

__all__ = [
    "__version__",
    # models, tracing, generation
    "load_model", "MusicGen", "World", "trace_codes", "generate", "nll_under", "Intervention", "add",
    # data and the store
    "ConceptSet", "load_manifest", "to_concept_set", "collect", "collect_prompts", "ActivationStore",
    # probes
    "fit_probe_bank", "ProbeBank", "ProbeConfig",
    # steering
    "Steerer", "ApplySpec", "Schedule", "ProbeMonitor", "steer", "calibrate_monitor", "ITISteerer", "ITIConfig",
    "SMITINSteerer", "SMITINConfig", "DiffMeansSteerer", "DiffMeansConfig", "RegressionSteerer", "RegressionConfig",
    "SAESteerer", "SAESteererConfig",
    # comparison, ablation and patching, judges
    "compare", "run_comparison", "steering_matrix", "SteeringMatrix", "Comparison", "Task", "text_task",
    "continuation_task", "ablate", "patch", "SweepResult", "Judge",
    # views and the offline report
    "head_heatmap", "monitor_trace_figure", "matrix_heatmap", "players", "Report", "build_report",
    # packages (mi.engine, mi.steering and mi.world hold the rest of their families)
    "sae", "ablation", "judges", "views", "organism",
    # errors (each package's own errors derive from MusicInterpError)
    "MusicInterpError", "CheckpointNotFoundError", "StoreError",
]

# old root names of the organism's tools, now under mi.organism (each warns once)
_ORGANISM_MOVED = {
    **{name: ("musicinterp.organism", name, f"mi.organism.{name}") for name in (
        "CONCEPTS", "OrganismWorld", "detect_all", "grammar_report", "world_validity", "balanced_set", "paired_set",
        "prompt_codes", "organism_metrics")},
    "organism_tasks": ("musicinterp.organism", "organism_tasks", "model.world.tasks (or mi.organism.organism_tasks)"),
}
__getattr__ = deprecated_getattr(__name__, _ORGANISM_MOVED)
