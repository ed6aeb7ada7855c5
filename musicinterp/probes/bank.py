"""ProbeConfig and ProbeBank: how a bank is fitted, and the fitted probes with their validation metrics."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .._version import __version__
from ..store.layout import atomic_save_tensors, atomic_write_json


@dataclass
class ProbeConfig:
    """How a bank is fitted; every field is recorded with the bank."""

    kind: str = "logistic"  # "logistic" | "linear"
    C: float = 1.0  # inverse L2 strength (logistic), as in scikit-learn
    ridge: float = 1e-3  # ridge for the linear probe, relative to the mean feature power
    max_iter: int = 100  # solver iterations (logistic)
    tol: float = 1e-4  # relative step at which a group counts as converged (float32-appropriate)
    val_fraction: float = 0.2
    seed: int = 0
    device: str = "cpu"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbeConfig:
        """Rebuild from a saved dict; fields of older versions that no longer exist are dropped."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class ProbeBank:
    """Fitted probes for one concept at one site: ``weight (G, d)``, ``bias (G,)`` and validation metrics.

    ``grid`` is ``(layers, heads)`` for head sites and ``(layers,)`` otherwise; groups
    are in layer-major order. Linear probes expect unit-normalised features
    (``normalize=True``); :meth:`decision` applies that for you.
    """

    site: str
    concept: str
    pooling: str
    grid: tuple[int, ...]
    weight: torch.Tensor
    bias: torch.Tensor
    val_acc: torch.Tensor
    val_auc: torch.Tensor
    train_acc: torch.Tensor
    config: ProbeConfig
    normalize: bool
    n_train: int
    n_val: int
    val_logits: torch.Tensor | None = None  # (G, n_val), kept for thresholds
    val_labels: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return int(self.weight.shape[0])

    def accuracy_grid(self) -> torch.Tensor:
        return self.val_acc.reshape(self.grid)

    def auc_grid(self) -> torch.Tensor:
        return self.val_auc.reshape(self.grid)

    def decision(self, x: torch.Tensor) -> torch.Tensor:
        """Logits/scores ``(..., G)`` for features ``(..., G, d)``."""
        x = x.to(self.weight.dtype)
        if self.normalize:
            x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return (x * self.weight).sum(-1) + self.bias

    def unit_directions(self) -> torch.Tensor:
        """Unit-norm weight rows ``(G, d)`` (the probe direction per group)."""
        return self.weight / self.weight.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def best(self, k: int = 1) -> list[tuple[tuple[int, ...], float]]:
        """The ``k`` most accurate groups as (grid index, accuracy)."""
        top = torch.argsort(self.val_acc, descending=True)[:k]
        return [(tuple(int(i) for i in torch.unravel_index(t, self.grid)), float(self.val_acc[t])) for t in top]

    def to_pandas(self):
        """One row per head (or layer): layer, head, val_acc, auc, train_acc, n_train, n_val."""
        import pandas as pd

        layers = torch.arange(self.grid[0]).repeat_interleave(self.n_groups // self.grid[0])
        cols: dict[str, Any] = {"layer": layers.numpy()}
        if len(self.grid) == 2:
            cols["head"] = torch.arange(self.grid[1]).repeat(self.grid[0]).numpy()
        cols.update(val_acc=self.val_acc.double().numpy(), auc=self.val_auc.double().numpy(),
                    train_acc=self.train_acc.double().numpy())
        frame = pd.DataFrame(cols)
        frame["n_train"], frame["n_val"] = self.n_train, self.n_val
        return frame

    def __repr__(self) -> str:
        (where, acc), = self.best(1)
        name = "head" if len(self.grid) == 2 else "layer"
        grid = " x ".join(str(s) for s in self.grid)
        metric = "R^2" if self.config.kind == "linear" and not self._binary else "val acc"
        return (f"ProbeBank({self.concept!r} @ {self.site}/{self.pooling}, {self.config.kind}, grid {grid}, "
                f"best {name} {where if len(where) > 1 else where[0]} {metric} {acc:.3f}, "
                f"n train {self.n_train} / val {self.n_val})")

    @property
    def _binary(self) -> bool:
        return self.val_labels is not None and bool(((self.val_labels == 0) | (self.val_labels == 1)).all())

    # ------------------------------------------------------------------ io
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        tensors = {"weight": self.weight, "bias": self.bias, "val_acc": self.val_acc, "val_auc": self.val_auc,
                   "train_acc": self.train_acc}
        if self.val_logits is not None:
            tensors.update(val_logits=self.val_logits, val_labels=self.val_labels)
        atomic_save_tensors(folder / "probes.safetensors", tensors)
        atomic_write_json(folder / "probes.json", {
            "site": self.site, "concept": self.concept, "pooling": self.pooling, "grid": list(self.grid),
            "config": asdict(self.config), "normalize": self.normalize, "n_train": self.n_train,
            "n_val": self.n_val, "meta": self.meta, "package_version": __version__})
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ProbeBank:
        folder = Path(folder)
        for name in ("probes.json", "probes.safetensors"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"no probe bank in {folder} (missing {name})")
        info = json.loads((folder / "probes.json").read_text())
        t = load_file(folder / "probes.safetensors")
        return cls(site=info["site"], concept=info["concept"], pooling=info["pooling"], grid=tuple(info["grid"]),
                   weight=t["weight"], bias=t["bias"], val_acc=t["val_acc"], val_auc=t["val_auc"],
                   train_acc=t["train_acc"], config=ProbeConfig.from_dict(info["config"]),
                   normalize=info["normalize"], n_train=info["n_train"], n_val=info["n_val"],
                   val_logits=t.get("val_logits"), val_labels=t.get("val_labels"), meta=info["meta"])
