"""SweepResult: an axis-shaped tensor of metric values with its references, and a tidy table."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ..errors import MissingFileError


def normalise(values: torch.Tensor, clean: torch.Tensor | float, corrupt: torch.Tensor | float) -> torch.Tensor:
    """``(m - m_corrupt) / (m_clean - m_corrupt)``: 1 where a cell recovers the clean run, 0 where it stays corrupt."""
    clean = torch.as_tensor(clean, dtype=torch.float32)
    corrupt = torch.as_tensor(corrupt, dtype=torch.float32)
    gap = clean - corrupt
    safe = torch.where(gap.abs() > 1e-12, gap, torch.full_like(gap, float("nan")))
    return (values.float() - corrupt) / safe


@dataclass
class SweepResult:
    """One value per cell of a sweep over named ``axes``.

    ``tensor`` is axis-shaped (the scalar metric); ``per_codebook`` adds a last
    codebook axis for per-codebook metrics. References: ``clean`` and ``corrupt``
    (the two ends of the normalised score) and ``baseline`` (the run the edits are
    made on, with no edit: the corrupt run when denoising, the clean one when
    noising or ablating).
    """

    kind: str  # "ablation" | "patching"
    site: str
    method: str  # ablation mode, or patching direction
    metric: str
    axes: tuple[str, ...]
    labels: dict[str, list]
    tensor: torch.Tensor
    clean: float
    corrupt: float
    baseline: float
    per_codebook: torch.Tensor | None = None
    codebooks: list[str] = field(default_factory=list)
    clean_per_codebook: torch.Tensor | None = None
    corrupt_per_codebook: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.shape)

    @property
    def normalized(self) -> torch.Tensor:
        """The normalised score per cell (axis-shaped)."""
        return normalise(self.tensor, self.clean, self.corrupt)

    @property
    def normalized_per_codebook(self) -> torch.Tensor | None:
        if self.per_codebook is None:
            return None
        return normalise(self.per_codebook, self.clean_per_codebook, self.corrupt_per_codebook)

    def top(self, k: int = 5, *, by: str = "normalized", largest: bool = True) -> list[tuple[tuple, float]]:
        """The ``k`` cells with the largest (or smallest) score, as (axis labels, score)."""
        score = (self.normalized if by == "normalized" else self.tensor).flatten()
        score = torch.nan_to_num(score, nan=-math.inf if largest else math.inf)
        order = torch.argsort(score, descending=largest)[:k]
        out = []
        for flat in order.tolist():
            idx = torch.unravel_index(torch.tensor(flat), self.shape)
            out.append((tuple(self.labels[a][int(i)] for a, i in zip(self.axes, idx, strict=True)), float(score[flat])))
        return out

    def to_pandas(self):
        """Tidy table: one row per cell with its axis labels, value, normalised score and per-codebook values."""
        import pandas as pd

        norm = self.normalized
        rows = []
        per_cb = self.per_codebook
        for flat in range(self.tensor.numel()):
            idx = [int(i) for i in torch.unravel_index(torch.tensor(flat), self.shape)]
            row: dict[str, Any] = {a: self.labels[a][i] for a, i in zip(self.axes, idx, strict=True)}
            row.update(value=float(self.tensor.flatten()[flat]), normalized=float(norm.flatten()[flat]))
            if per_cb is not None:
                cb = per_cb.reshape(-1, per_cb.shape[-1])[flat]
                for name, v in zip(self.codebooks, cb.tolist(), strict=True):
                    row[f"value_{name}"] = v
            row.update(site=self.site, method=self.method, metric=self.metric)
            rows.append(row)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ io
    _TENSORS = ("tensor", "per_codebook", "clean_per_codebook", "corrupt_per_codebook")

    def save(self, folder: str | Path) -> Path:
        """Write ``sweep.safetensors`` and ``sweep.json`` (each atomically) into ``folder``."""
        from ..store.layout import atomic_save_tensors, atomic_write_json

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: getattr(self, k).contiguous() for k in self._TENSORS if getattr(self, k) is not None}
        atomic_save_tensors(folder / "sweep.safetensors", tensors)
        meta = {k: getattr(self, k) for k in ("kind", "site", "method", "metric", "clean", "corrupt", "baseline",
                                              "codebooks", "info")}
        meta.update(axes=list(self.axes), labels=self.labels)
        atomic_write_json(folder / "sweep.json", meta)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> SweepResult:
        folder = Path(folder)
        for name in ("sweep.json", "sweep.safetensors"):
            if not (folder / name).is_file():
                raise MissingFileError(f"no sweep result in {folder} (missing {name})")
        meta = json.loads((folder / "sweep.json").read_text())
        t = load_file(str(folder / "sweep.safetensors"))
        meta["axes"] = tuple(meta["axes"])
        return cls(**meta, **{k: t.get(k) for k in cls._TENSORS})

    def __repr__(self) -> str:
        dims = " x ".join(f"{a} {len(self.labels[a])}" for a in self.axes)
        best = self.top(1)
        where = ", ".join(f"{a}={v}" for a, v in zip(self.axes, best[0][0], strict=True)) if best else "-"
        return (f"SweepResult({self.kind} {self.method} at {self.site}, {dims}, metric {self.metric}: "
                f"clean {self.clean:.4g}, corrupt {self.corrupt:.4g}, baseline {self.baseline:.4g}; "
                f"best {where} -> {best[0][1]:.3f} normalised)" if best else ")")
