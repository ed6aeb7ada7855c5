"""The Steerer protocol: a fitted, saveable artifact that becomes interventions at generation time.

Every method fits from an :class:`ActivationStore` (no model run), records the
model fingerprint, its config and the package version, and saves as
safetensors + JSON. At generation time :meth:`Steerer.prepare` turns it into
interventions (and per-step callbacks, for monitors) for an :class:`ApplySpec`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors.torch import load_file

from .. import __version__
from ..interventions import Intervention
from ..models.musicgen import MusicGen
from ..store.errors import StoreModelMismatchError
from ..store.layout import atomic_save_tensors, atomic_write_json
from .spec import ApplySpec, Schedule, StrengthLog


@dataclass
class Prepared:
    """A steerer made ready for one generation."""

    interventions: list[Intervention]
    callbacks: list[Any] = field(default_factory=list)
    log: StrengthLog = field(default_factory=StrengthLog)
    monitor: Any = None


@dataclass
class Steerer:
    """Base of all methods. Subclasses set ``method`` and implement :meth:`prepare`."""

    concept: str
    site: str
    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    model_fingerprint: str
    model_id: str
    spec: ApplySpec = field(default_factory=ApplySpec)
    meta: dict[str, Any] = field(default_factory=dict)
    method: ClassVar[str] = "base"
    registry: ClassVar[dict[str, type[Steerer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.method != "base":
            Steerer.registry[cls.method] = cls

    def check_model(self, model: MusicGen) -> None:
        if model.fingerprint != self.model_fingerprint:
            raise StoreModelMismatchError(
                f"{self.method} steerer for {self.concept!r} was fitted on model {self.model_id!r} "
                f"(fingerprint {self.model_fingerprint}), not on {model.name!r} (fingerprint {model.fingerprint})")

    def prepare(self, model: MusicGen, *, strength: float | None = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        raise NotImplementedError

    # ------------------------------------------------------------------ io
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        atomic_save_tensors(folder / "steerer.safetensors", self.tensors)
        atomic_write_json(folder / "steerer.json", {
            "method": self.method, "concept": self.concept, "site": self.site, "config": self.config,
            "model_fingerprint": self.model_fingerprint, "model_id": self.model_id, "spec": self.spec.to_dict(),
            "meta": self.meta, "package_version": __version__})
        return folder

    @staticmethod
    def load(folder: str | Path, model: MusicGen | None = None) -> Steerer:
        """Load any method's artifact; with ``model``, refuse one fitted on another model."""
        folder = Path(folder)
        for name in ("steerer.json", "steerer.safetensors"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"no steerer in {folder} (missing {name})")
        info = json.loads((folder / "steerer.json").read_text())
        cls = Steerer.registry.get(info["method"])
        if cls is None:
            raise ValueError(f"{folder / 'steerer.json'}: unknown method {info['method']!r}")
        spec = info["spec"]
        spec["heads"] = [tuple(h) for h in spec["heads"]] if spec.get("heads") else None
        steerer = cls(concept=info["concept"], site=info["site"], tensors=load_file(folder / "steerer.safetensors"),
                      config=info["config"], model_fingerprint=info["model_fingerprint"], model_id=info["model_id"],
                      spec=ApplySpec(**spec), meta=info.get("meta", {}))
        if model is not None:
            steerer.check_model(model)
        return steerer
