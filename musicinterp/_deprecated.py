"""Old root names: each still resolves, with one ``DeprecationWarning`` naming its new home.

The organism's tools moved under ``mi.organism``, rarely used names under
their packages, and three aliases (``SteeredResult``, ``load_steerer``,
``open_store``) are kept only here.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

# old root name -> (module, attribute, where to find it now)
# (the root ``__init__`` adds the organism's names)
MOVED: dict[str, tuple[str, str, str]] = {
    "SteeredResult": ("musicinterp.engine.generation", "GenerationResult", "mi.engine.GenerationResult"),
    "load_steerer": ("musicinterp.steering", "Steerer", "mi.Steerer.load"),
    "open_store": ("musicinterp.store", "ActivationStore", "mi.ActivationStore.open"),
    "SAEConfig": ("musicinterp.steering", "SAESteererConfig", "mi.SAESteererConfig (mi.sae.TrainConfig trains one)"),
    **{name: ("musicinterp.engine", name, f"mi.engine.{name}") for name in (
        "TraceResult", "GenerationResult", "StepContext", "StepWindow", "replace", "apply_fn")},
    "JudgeResult": ("musicinterp.judges", "JudgeResult", "mi.judges.JudgeResult"),
    **{name: ("musicinterp.steering", name, f"mi.steering.{name}") for name in (
        "Constant", "Decay", "Monitor", "MonitorTrace", "MonitorCalibration", "SAEFeatureMonitor", "SpecError",
        "SteererFileError")},
    **{name: ("musicinterp.views", name, f"mi.views.{name}") for name in (
        "concept_grid", "layer_accuracy_curve", "success_vs_fidelity")},
    "layer_variants": ("musicinterp.compare.tasks", "layer_variants", "musicinterp.compare.tasks.layer_variants"),
    "AblationSpec": ("musicinterp.ablation", "AblationSpec", "mi.ablation.AblationSpec"),
    "Audio": ("musicinterp.report", "Audio", "mi.report.Audio"),
    "ManifestError": ("musicinterp.data.manifest", "ManifestError", "mi.data.manifest.ManifestError"),
    "StoreModelMismatchError": ("musicinterp.store", "StoreModelMismatchError", "mi.store.StoreModelMismatchError"),
    "CheckpointFileError": ("musicinterp.models", "CheckpointFileError", "mi.models.CheckpointFileError"),
    "UnsupportedVariantError": ("musicinterp.models", "UnsupportedVariantError", "mi.models.UnsupportedVariantError"),
}
_WARNED: set[str] = set()


def resolve(name: str) -> Any:
    """The object an old root name stands for, warning once per name."""
    module, attr, where = MOVED[name]
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"mi.{name} is deprecated; use {where}", DeprecationWarning, stacklevel=3)
    obj = getattr(importlib.import_module(module), attr)
    if name == "load_steerer":
        return obj.load
    if name == "open_store":
        return obj.open
    return obj


def deprecated_getattr(module_name: str, more: dict[str, tuple[str, str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving the old names of :data:`MOVED` and ``more``."""
    MOVED.update(more)

    def __getattr__(name: str) -> Any:
        if name in MOVED:
            return resolve(name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
