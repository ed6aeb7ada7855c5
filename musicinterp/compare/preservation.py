"""Fidelity measures over embeddings: FAD and KAD against the unsteered run, preservation, and TADA's AUC.

Each embedder (``mi.measures``: CLAP, EnCodec latents, log-mel) maps a
setting's generated clips to vectors. Against the unsteered run of the same
task (clip ``i`` of both shares its prompt and noise) a row gets the
bias-corrected FAD and the unbiased KAD with paired bootstrap intervals, and
the *preservation distance*: the mean over prompts of 1 - cosine between a
clip's embedding and its unsteered twin's. TADA's summary plots alignment gain
(success minus the unsteered success) against that distance and reports the
area under the curve up to a cutoff shared by the methods compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..measures import embedding_distances

if TYPE_CHECKING:
    from .run import Comparison

MIN_CLIPS = 4  # FAD and KAD need a few clips on each side


def preservation_distance(steered: np.ndarray, unsteered: np.ndarray) -> float:
    """Mean over prompts of 1 - cos(steered_i, unsteered_i)."""
    a = steered / np.linalg.norm(steered, axis=1, keepdims=True).clip(1e-12)
    b = unsteered / np.linalg.norm(unsteered, axis=1, keepdims=True).clip(1e-12)
    return float(np.mean(1.0 - (a * b).sum(1)))


def measure_fields(steered: dict[str, np.ndarray], unsteered: dict[str, np.ndarray], seed: int = 0
                   ) -> dict[str, float]:
    """Per embedder: ``fad_<name>`` (bias-corrected, with ``_lo``/``_hi``), ``kad_<name>`` (with interval) and
    ``distance_<name>``, each against the unsteered clips of the same prompts."""
    out: dict[str, float] = {}
    for name, emb in steered.items():
        base = unsteered[name]
        out[f"distance_{name}"] = preservation_distance(emb, base)
        if len(emb) < MIN_CLIPS:
            continue
        dist = embedding_distances(emb, base, name=name, paired=True, seed=seed)
        out.update({f"fad_{name}": dist.fad_ci.value, f"fad_{name}_lo": dist.fad_ci.low,
                    f"fad_{name}_hi": dist.fad_ci.high, f"kad_{name}": dist.kad.value,
                    f"kad_{name}_lo": dist.kad.low, f"kad_{name}_hi": dist.kad.high})
    return out


def _curve(rows: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(distance, alignment gain) points of one method, from the unsteered origin, sorted by distance."""
    pts = sorted((r[key], r["success_gain"]) for r in rows if key in r and not math.isnan(r[key]))
    return np.array([0.0] + [p[0] for p in pts]), np.array([0.0] + [p[1] for p in pts])


def alignment_auc(comp: Comparison, task: str, embedder: str, cutoff: float | None = None) -> dict[str, float]:
    """Per method, the area under alignment gain against preservation distance (embedder ``embedder``) from 0 to
    ``cutoff`` (default: the smallest of the methods' largest distances, so every curve covers it), by the
    trapezoid rule, the curve held flat past its last point. Success is already sign-corrected for removal."""
    key = f"distance_{embedder}"
    methods = dict.fromkeys(r["method"] for r in comp.rows if r["task"] == task and key in r)
    curves = {m: _curve([r for r in comp.rows if r["task"] == task and r["method"] == m], key) for m in methods}
    if cutoff is None:
        cutoff = min((c[0].max() for c in curves.values()), default=0.0)
    out = {}
    for method, (x, y) in curves.items():
        grid = np.linspace(0.0, cutoff, 101)
        out[method] = float(np.trapezoid(np.interp(grid, x, y), grid)) if cutoff > 0 else math.nan
    return out
