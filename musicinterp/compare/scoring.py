"""Scoring one generated setting of a comparison: rates, continuity, fidelity, collateral, with intervals.

:class:`Scorer` turns codes into a row (success, every judge's rate, key and
tempo kept, NLL, token distance, validity, collateral against the unsteered
run) and keeps each prompt's outcome, so :func:`with_intervals` can give every
rate its Wilson interval and every steered-vs-unsteered difference its paired
bootstrap interval (see :mod:`musicinterp.compare.intervals`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..judges import Judge, JudgeResult, KeptJudge, judge_all
from ..models.musicgen import MusicGen
from .fidelity import fidelity
from .intervals import (
    Limits,
    max_move,
    min_decided,
    n_for_halfwidth,
    n_to_decide,
    paired_difference,
    percentile_interval,
    resamples,
    verdict,
    wilson,
)
from .preservation import measure_fields
from .tasks import Task


def _outcomes(result: JudgeResult, flip: bool = False) -> np.ndarray:
    """Per example 1/0 (``flip``: 0/1), NaN where the judge could not decide."""
    present = result.present.astype(np.float64)
    present = 1.0 - present if flip else present
    return np.where(result.decided, present, np.nan)


@dataclass
class Examples:
    """Each prompt's outcome: success, the collateral judges' yes/no (rows), validity; all 0/1 with NaN."""

    success: np.ndarray
    collateral: dict[str, np.ndarray]
    validity: np.ndarray | None
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)  # per embedder, one row per prompt


class Scorer:
    """One row of :func:`~musicinterp.compare.compare`: success, rates of every judge, continuity, fidelity."""

    def __init__(self, model: MusicGen, judges: list[Judge], target: Judge, continuity: list[KeptJudge],
                 add: bool, measures: Sequence[Any] = ()) -> None:
        self.model, self.judges, self.target, self.continuity, self.add = model, judges, target, continuity, add
        self.measures = list(measures)

    def __call__(self, codes: torch.Tensor, task: Task, reference: torch.Tensor,
                 base: dict[str, Any] | None) -> tuple[dict[str, Any], Examples]:
        pf = task.prompt_frames
        gen = codes[..., pf:]
        results = judge_all(self.judges, gen, decoder=self.model)
        rates = {name: r.rate for name, r in results.items()}
        success = rates[self.target.name] if self.add else 1 - rates[self.target.name]
        text = task.kwargs.get("text")
        cond = self.model.conditioning(text=list(text)) if text is not None else None
        fid = fidelity(self.model, codes, reference, prompt_frames=pf, cond=cond)
        row: dict[str, Any] = {"success": success, "validity": fid.validity, "nll": fid.nll,
                               "token_distance": fid.token_distance, **{f"rate_{k}": v for k, v in rates.items()}}
        kept = {f"{j.concept}_kept": j(codes[..., :pf], gen, decoder=self.model) for j in self.continuity} if pf else {}
        row.update({k: r.rate for k, r in kept.items()})
        # steering tempo changes tempo on purpose: "tempo kept" is the target itself, not collateral
        others = {f"rate_{j.name}": _outcomes(results[j.name]) for j in self.judges
                  if j.concept != self.target.concept}
        others.update({k: _outcomes(r) for k, r in kept.items() if k != f"{self.target.concept}_kept"})
        valid = fid.valid  # the grammar's verdict per clip, read once by fidelity()
        examples = Examples(_outcomes(results[self.target.name], flip=not self.add), others,
                            None if valid is None else valid.cpu().numpy().astype(np.float64),
                            {m.name: np.asarray(m(gen), np.float64) for m in self.measures})
        if base is None:
            return {**row, "nll_increase": 0.0, "collateral": 0.0, "collateral_by_judge": {}}, examples
        moves = {k: abs(row[k] - base[k]) for k in others}
        # a judge that decided no example on one side (mode with no bass) cannot show a change
        moves = {k: v for k, v in moves.items() if not math.isnan(v)}
        row.update(nll_increase=fid.nll - base["nll"], collateral=max(moves.values(), default=0.0),
                   collateral_by_judge=moves)
        return row, examples


def unmeasured_judges(steered: dict[str, np.ndarray], base: dict[str, np.ndarray], keys: Sequence[str]
                      ) -> dict[str, list[int]]:
    """Collateral judges that decide fewer than :func:`min_decided` prompts on either side, with how many they
    decide (steered, unsteered): a rate over a handful is noise, not a change (the mode judge reads the bass's
    roots, so once the bass is removed it decides only where a stray bass note is left)."""
    out = {}
    for k in keys:
        counts = [int((~np.isnan(side[k])).sum()) for side in (steered, base)]
        need = min_decided(steered[k].size)
        if any(c < need for c in counts):
            out[k] = counts
    return out


def with_intervals(row: dict[str, Any], ex: Examples, base: Examples | None, limits: Limits,
                   seed: int = 0) -> dict[str, Any]:
    """``row`` with 95% intervals: ``success_lo/hi`` and ``validity_lo/hi`` (Wilson), ``collateral_lo/hi``
    and ``success_gain`` (paired bootstrap over prompts against ``base``), and its ``verdict``."""
    _, row["success_lo"], row["success_hi"] = wilson(ex.success)
    if ex.validity is not None:
        _, row["validity_lo"], row["validity_hi"] = wilson(ex.validity)
    if base is None:  # the unsteered run itself
        row.update(collateral_lo=0.0, collateral_hi=0.0)
        return row
    idx = resamples(ex.success.size, seed=seed)
    keys = sorted(set(ex.collateral) & set(base.collateral))
    thin = unmeasured_judges(ex.collateral, base.collateral, keys)
    if thin:  # their rates come from a handful of prompts: reported, not read as collateral
        keys = [k for k in keys if k not in thin]
        row["collateral_unmeasured"] = thin
        if "collateral_by_judge" in row:
            row["collateral_by_judge"] = {k: v for k, v in row["collateral_by_judge"].items() if k not in thin}
            row["collateral"] = max(row["collateral_by_judge"].values(), default=0.0)
    steered = np.stack([ex.collateral[k] for k in keys]) if keys else np.zeros((0, ex.success.size))
    unsteered = np.stack([base.collateral[k] for k in keys]) if keys else np.zeros((0, ex.success.size))
    row["collateral_lo"], row["collateral_hi"] = percentile_interval(max_move(steered, unsteered, idx))
    row["success_gain"], row["success_gain_lo"], row["success_gain_hi"] = paired_difference(
        ex.success, base.success, idx)
    row["verdict"] = verdict(row, limits)
    if row["verdict"] == "undecided":  # how many prompts would decide it, were its point values to hold
        row["n_to_decide"] = n_to_decide({**row, "n": ex.success.size}, limits)
    if ex.embeddings:
        row.update(measure_fields(ex.embeddings, base.embeddings, seed=seed))
    return row


def floor_figures(row: dict[str, Any], n: int) -> dict[str, Any]:
    """The noise floor's collateral interval and the prompts a +/-5-point collateral interval needs."""
    return {"n": n, "collateral": row["collateral"], "collateral_lo": row["collateral_lo"],
            "collateral_hi": row["collateral_hi"],
            "n_for_halfwidth_5pt": n_for_halfwidth(row["collateral_lo"], row["collateral_hi"], n)}
