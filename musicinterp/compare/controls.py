"""Each method's row read against its random-direction controls, and dose-response slopes with intervals.

A method's setting *beats its control* when its success interval lies above
every control draw's at the same strength; the collateral it causes beyond the
control's is what its direction moves beyond what any edit of this size moves.
A setting that passes its limits but does not beat its control is undecided.
Dose-response: the slope of success (and of its logit) per unit strength, by
least squares over a method's strengths, with a paired bootstrap interval over
prompts; the controls' slope beside it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..steering.control import control_of
from .intervals import percentile_interval, resamples

if TYPE_CHECKING:
    from .run import Comparison


def attach_controls(comp: Comparison) -> None:
    """Give every method row its controls' success and collateral at the same task and strength."""
    for row in comp.rows:
        if control_of(row["method"]) is not None:
            continue
        mine = [r for r in comp.rows if r["task"] == row["task"] and r["strength"] == row["strength"]
                and control_of(r["method"]) == row["method"]]
        if not mine:
            continue
        row["control_success"] = float(np.mean([r["success"] for r in mine]))
        row["control_success_hi"] = float(max(r["success_hi"] for r in mine))
        row["control_collateral"] = float(np.mean([r["collateral"] for r in mine]))
        row["beats_control"] = bool(row["success_lo"] > row["control_success_hi"])
        row["collateral_beyond_control"] = row["collateral"] - row["control_collateral"]
        if row.get("verdict") == "pass" and not row["beats_control"]:
            row["verdict"] = "undecided"


def _logit(rate: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Empirical logit with the usual half-count correction (finite at 0 and 1)."""
    k = rate * n
    return np.log((k + 0.5) / (n - k + 0.5))


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slopes of each row of ``y`` ``(B, S)`` on ``x`` ``(S,)``."""
    xc = x - x.mean()
    return ((y - y.mean(-1, keepdims=True)) * xc).sum(-1) / (xc * xc).sum()


def dose_response(comp: Comparison, task: str, method: str, seed: int = 0) -> dict[str, Any]:
    """Slope of success per unit strength (rate and logit scale) with 95% intervals, over ``method``'s strengths
    of ``task`` (the unsteered run as strength 0 when the sweep lacks it)."""
    points = sorted((s, ex) for (t, m, s), ex in comp.examples.items() if t == task and m == method)
    if (task, "unsteered", 0.0) in comp.examples and all(s != 0.0 for s, _ in points):
        points.insert(0, (0.0, comp.examples[(task, "unsteered", 0.0)]))
    if len(points) < 2:
        return {"method": method, "task": task, "slope": math.nan, "slope_lo": math.nan, "slope_hi": math.nan,
                "logit_slope": math.nan, "logit_slope_lo": math.nan, "logit_slope_hi": math.nan}
    x = np.array([s for s, _ in points])
    outcomes = np.stack([ex.success for _, ex in points])  # (S, n), NaN undecided
    idx = np.concatenate([np.arange(outcomes.shape[1])[None], resamples(outcomes.shape[1], seed=seed)])
    picked = outcomes[:, idx]  # (S, B+1, n)
    decided = ~np.isnan(picked)
    n = decided.sum(-1).T  # (B+1, S)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (np.where(decided, picked, 0).sum(-1) / decided.sum(-1)).T
    slope, logit_slope = _slopes(x, rate), _slopes(x, _logit(rate, n))
    out = {"method": method, "task": task, "strengths": x.tolist(), "slope": float(slope[0]),
           "logit_slope": float(logit_slope[0])}
    out["slope_lo"], out["slope_hi"] = percentile_interval(slope[1:])
    out["logit_slope_lo"], out["logit_slope_hi"] = percentile_interval(logit_slope[1:])
    return out


def dose_table(comp: Comparison, task: str):
    """Every method's and control's dose-response slope on ``task`` as a DataFrame (controls marked)."""
    import pandas as pd

    methods = dict.fromkeys(m for (t, m, _) in comp.examples if t == task and m != "unsteered")
    rows = [{**dose_response(comp, task, m), "control_of": control_of(m)} for m in methods]
    return pd.DataFrame(rows)
