"""ProbeConfig and ProbeBank: how a bank is fitted, and the fitted probes with their validation metrics.

Saved as ``probes.safetensors`` + ``probes.json``; the JSON carries the tensors'
SHA-256. Loading checks every JSON field, the checksum, every tensor's shape
against the grid and that weights and biases are finite (validation metrics may
be NaN); each problem is a :class:`ProbeBankError` naming the file and field.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from .._version import __version__
from ..data.names import UnsafeNameError, safe_name
from ..errors import MusicInterpError
from ..store import tensorfile as TF
from ..store.layout import atomic_save_tensors, atomic_write_json
from ..store.owned import write_marker


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
        """Write ``probes.safetensors``, then ``probes.json`` holding its SHA-256; weights must be finite."""
        folder = Path(folder)
        tensors = {"weight": self.weight, "bias": self.bias, "val_acc": self.val_acc, "val_auc": self.val_auc,
                   "train_acc": self.train_acc}
        if self.val_logits is not None:
            tensors.update(val_logits=self.val_logits, val_labels=self.val_labels)
        safe_name(self.concept, field=f"{folder}: concept", error=ProbeBankNameError)
        for name, t in tensors.items():
            if name not in METRICS:
                TF.check_finite(f"{folder / TENSORS} (not saved)", name, t, ProbeBankError)
        write_marker(folder, "probes")
        record = atomic_save_tensors(folder / TENSORS, tensors)
        atomic_write_json(folder / INFO, {
            "site": self.site, "concept": self.concept, "pooling": self.pooling, "grid": list(self.grid),
            "config": asdict(self.config), "normalize": self.normalize, "n_train": self.n_train,
            "n_val": self.n_val, "meta": self.meta, "package_version": __version__,
            "tensors_sha256": record.sha256})
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ProbeBank:
        """Read a saved bank, checking its JSON fields, the tensors' checksum, shapes and finite weights."""
        folder = Path(folder)
        for name in (INFO, TENSORS):
            if not (folder / name).is_file():
                raise ProbeBankNotFoundError(f"no probe bank in {folder} (missing {name})")
        info = _read_info(folder / INFO)
        digest = info.get("tensors_sha256")
        t = TF.read_tensors(folder / TENSORS, ProbeBankError, checksum=digest and ("sha256", digest),
                            may_be_nonfinite=METRICS)
        _check_tensors(folder / TENSORS, t, tuple(info["grid"]), info["n_val"])
        return cls(site=info["site"], concept=info["concept"], pooling=info["pooling"], grid=tuple(info["grid"]),
                   weight=t["weight"], bias=t["bias"], val_acc=t["val_acc"], val_auc=t["val_auc"],
                   train_acc=t["train_acc"], config=ProbeConfig.from_dict(info["config"]),
                   normalize=info["normalize"], n_train=info["n_train"], n_val=info["n_val"],
                   val_logits=t.get("val_logits"), val_labels=t.get("val_labels"), meta=info["meta"])


INFO, TENSORS = "probes.json", "probes.safetensors"
METRICS = frozenset({"val_acc", "val_auc", "train_acc"})  # may be NaN (a one-class validation split)


class ProbeBankError(ValueError, MusicInterpError):
    """A saved probe bank that is damaged or malformed; names the file and field."""


class ProbeBankNotFoundError(ProbeBankError, FileNotFoundError):
    """No probe bank in the folder."""


class ProbeBankNameError(ProbeBankError, UnsafeNameError):
    """A probe bank's concept that cannot be used as a name."""


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# field -> (check, what it must be)
_FIELDS: dict[str, tuple[Any, str]] = {
    "site": (lambda v: isinstance(v, str) and bool(v), "a site name"),
    "concept": (lambda v: isinstance(v, str), "a string"),
    "pooling": (lambda v: v in ("mean", "last"), "'mean' or 'last'"),
    "grid": (lambda v: isinstance(v, list) and len(v) in (1, 2) and all(_count(g) and 0 < g <= 65536 for g in v),
             "[layers] or [layers, heads] of positive integers"),
    "config": (lambda v: isinstance(v, dict) and v.get("kind", "logistic") in ("logistic", "linear"),
               "an object with kind 'logistic' or 'linear'"),
    "normalize": (lambda v: isinstance(v, bool), "true or false"),
    "n_train": (_count, "a non-negative integer"),
    "n_val": (_count, "a non-negative integer"),
    "meta": (lambda v: isinstance(v, dict), "an object"),
}


def _read_info(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ProbeBankError(f"{path}: not valid JSON ({type(err).__name__}: {err})") from err
    if not isinstance(info, dict):
        raise ProbeBankError(f"{path}: expected a JSON object, got {type(info).__name__}")
    for key, (ok, what) in _FIELDS.items():
        if key not in info:
            raise ProbeBankError(f"{path}: field {key!r} is missing")
        if not ok(info[key]):
            shown = repr(info[key]) if len(repr(info[key])) <= 60 else repr(info[key])[:57] + "..."
            raise ProbeBankError(f"{path}: field {key!r} must be {what}, got {shown}")
    safe_name(info["concept"], field=f"{path}: field 'concept'", error=ProbeBankNameError)
    digest = info.get("tensors_sha256")
    if digest is None:
        warnings.warn(f"{path} has no 'tensors_sha256' (saved before probe banks carried a checksum): its tensors "
                      f"are checked for shape and finite weights only; save it again to add one", UserWarning,
                      stacklevel=4)
    elif not (isinstance(digest, str) and len(digest) == 64):
        raise ProbeBankError(f"{path}: field 'tensors_sha256' must be 64 hex digits, got {digest!r}")
    return info


def _check_tensors(path: Path, t: dict[str, torch.Tensor], grid: tuple[int, ...], n_val: int) -> None:
    groups = math.prod(grid)
    want: dict[str, tuple[int, ...] | None] = {"weight": None, "bias": (groups,), "val_acc": (groups,),
                                               "val_auc": (groups,), "train_acc": (groups,)}
    if "val_logits" in t or "val_labels" in t:
        want.update(val_logits=(groups, n_val), val_labels=(n_val,))
    for key, shape in want.items():
        if key not in t:
            raise ProbeBankError(f"{path}: tensor {key!r} is missing")
        got = tuple(t[key].shape)
        if shape is None and not (len(got) == 2 and got[0] == groups and got[1] > 0):
            raise ProbeBankError(f"{path}: tensor 'weight' has shape {list(got)}, expected [{groups}, features]")
        if shape is not None and got != shape:
            raise ProbeBankError(f"{path}: tensor {key!r} has shape {list(got)}, expected {list(shape)} (grid "
                                 f"{list(grid)}, n_val {n_val})")
        if not t[key].is_floating_point():
            raise ProbeBankError(f"{path}: tensor {key!r} has dtype {t[key].dtype}, expected a float")
