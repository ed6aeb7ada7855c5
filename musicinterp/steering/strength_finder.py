"""The strength finder: the weakest strength that reaches a target success within the limits.

:func:`calibrate` runs a few batched rounds on a small calibration task (prompts
held out from evaluation, e.g. :func:`calibration_task`): each round generates
the unsteered rows (first round only) and several strengths as blocks of one
generation (a per-row strength), judges every block, and narrows the bracket
between the strongest strength that missed the target and the weakest that
reached it (bisection with ``points`` strengths per round). Success is the
target judge's rate (one minus it when removing); collateral the largest change
of the other judges' rates against the unsteered rows; validity the share of
generations that obey the world's grammar. Success is assumed to rise with
strength, so the weakest strength reaching the target is chosen when it keeps
the limits. Collateral and validity are not assumed to worsen with strength:
when the weakest strength breaks the limits, one more round looks above it for
the weakest that keeps them. Point estimates on a small set: confirm with
``mi.compare``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .configs import SteererConfigError

# -> per strength (success, collateral, validity[, the judge that moved most])
Evaluate = Callable[[list[float]], list[tuple]]


@dataclass
class RoundPoint:
    """One strength evaluated in one round."""

    round: int
    strength: float
    success: float
    collateral: float
    validity: float | None
    within_limits: bool
    most_moved: str | None = None  # the collateral judge behind ``collateral``


@dataclass
class StrengthCalibration:
    """Every round's points, the chosen strength (``None`` when none qualifies) and why."""

    points: list[RoundPoint]
    chosen: float | None
    target: float
    rounds: int
    reason: str
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self):
        """One row per evaluated strength (``round``, ``strength``, ``success``, ``collateral``, ``validity``)."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.points])

    def __repr__(self) -> str:
        chosen = "none" if self.chosen is None else f"{self.chosen:.4g}"
        return (f"StrengthCalibration(chosen={chosen}, target={self.target}, {self.rounds} rounds, "
                f"{len(self.points)} points: {self.reason})")


def _within(limits: Any, collateral: float, validity: float | None) -> bool:
    ok = math.isnan(collateral) or collateral <= limits.max_collateral
    return ok and (validity is None or math.isnan(validity) or validity >= limits.min_validity)


def _record(seen: dict[float, RoundPoint], round_: int, grid: list[float], rated: list[tuple], limits: Any) -> None:
    """One round's evaluated strengths into ``seen``."""
    for s, (succ, coll, val, *moved) in zip(grid, rated, strict=True):
        seen[s] = RoundPoint(round_, float(s), float(succ), float(coll), None if val is None else float(val),
                             _within(limits, float(coll), val), moved[0] if moved else None)


def search_strength(evaluate: Evaluate, low: float, high: float, *, target: float, limits: Any, rounds: int = 4,
                    points: int = 4, tol: float = 0.02, above: bool = True) -> StrengthCalibration:
    """Bracket the weakest strength in ``[low, high]`` whose success reaches ``target`` in at most ``rounds``
    calls of ``evaluate`` (round 1: ``points + 1`` strengths from ``low`` to ``high``; then ``points`` inside the
    bracket). Stops once the bracket is narrower than ``tol * (high - low)``. When that strength breaks the
    limits and ``above``, one more call tries ``points`` strengths between it and ``high``, and the weakest of
    them reaching the target within the limits is chosen (validity is not always monotone in strength)."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise SteererConfigError(f"strength finder: need finite low < high, got low={low}, high={high}")
    if rounds < 1 or points < 1:
        raise SteererConfigError(f"strength finder: rounds and points must be >= 1, got {rounds}, {points}")
    seen: dict[float, RoundPoint] = {}
    grid = np.linspace(low, high, points + 1).tolist()
    done = 0
    for r in range(1, rounds + 1):
        _record(seen, r, grid, evaluate(grid), limits)
        done = r
        reached = sorted(s for s, p in seen.items() if p.success >= target)
        if not reached:
            return StrengthCalibration(list(seen.values()), None, target, done,
                                       f"success never reached {target} up to strength {high:g}")
        b = reached[0]
        below = [s for s in seen if s < b]
        if not below or b - max(below) <= tol * (high - low):
            break
        grid = np.linspace(max(below), b, points + 2)[1:-1].tolist()
    best = seen[b]
    if best.within_limits:
        return StrengthCalibration(list(seen.values()), float(b), target, done, "found")
    by = f" from {best.most_moved}" if best.most_moved else ""
    why = (f"the weakest strength reaching {target} ({b:.4g}) breaks the limits (collateral "
           f"{best.collateral:.3f}{by}, validity {best.validity})")
    if not above or b >= high:
        return StrengthCalibration(list(seen.values()), None, target, done, why)
    # collateral and validity need not worsen with strength: look above once
    fresh = [x for x in np.linspace(b, high, points + 1)[1:].tolist() if x not in seen]
    if fresh:
        done += 1
        _record(seen, done, fresh, evaluate(fresh), limits)
    ok = sorted(x for x, p in seen.items() if x > b and p.success >= target and p.within_limits)
    if not ok:
        return StrengthCalibration(list(seen.values()), None, target, done, f"{why}; no stronger one up to "
                                   f"{high:g} keeps them")
    return StrengthCalibration(list(seen.values()), float(ok[0]), target, done,
                               f"found above: {why}, but {ok[0]:.4g} keeps them")


def calibration_task(model: Any, concept: str, *, n: int = 8, prompt_frames: int = 32, new_frames: int = 32,
                     seed: int = 7, add: bool = True) -> Any:
    """A small continuation task from the model's world, held out from evaluation (another seed than a
    comparison's default 0)."""
    tasks = model.world.tasks(concept, n=n, prompt_frames=prompt_frames, new_frames=new_frames, seed=seed, add=add)
    return tasks[0]


def _resolve_judge(model: Any, judge: Any) -> Any:
    if not isinstance(judge, str):
        return judge
    for j in model.world.judges():
        if judge in (j.name, getattr(j, "concept", None)):
            return j
    raise SteererConfigError(f"strength finder: no judge {judge!r} in the {model.world.name} world")


def _default_high(steerer: Any, model: Any) -> float:
    if getattr(steerer.config, "edit", "add") == "bounded":
        return 1.0
    sweep = model.world.sweeps.get(steerer.method)
    return float(max(sweep)) if sweep else 2.0 * float(steerer.config.strength)


def round_evaluator(steerer: Any, model: Any, task: Any, judge: Any, others: Sequence[Any], add: bool,
                    seed: int) -> Evaluate:
    """``evaluate(strengths)``: one generation of the task at every strength (and, the first time, unsteered)."""
    from ..engine.settings import tile
    from ..judges import judge_all
    from .run import steer

    base: dict[str, float] = {}
    n, pf = task.n, task.prompt_frames

    def evaluate(strengths: list[float]) -> list[tuple]:
        fresh = not base and 0.0 not in strengths  # the unsteered rows: a strength-0 block, once
        blocks = ([0.0] if fresh else []) + [float(s) for s in strengths]
        per_row = torch.tensor(blocks).repeat_interleave(n)
        res = steer(model, [steerer], strength=per_row, seed=seed, decode_audio=False,
                    row_keys=list(range(n)) * len(blocks), **tile(task.kwargs, len(blocks)))
        rated = []
        for j in range(len(blocks)):
            full = res.codes[j * n:(j + 1) * n]
            gen = full[..., pf:]
            results = judge_all([judge, *others], gen, decoder=model)
            valid = model.world.validity(full, start=pf)
            rated.append(({name: r.rate for name, r in results.items()},
                          None if valid is None else float(valid.float().mean())))
        if not base:
            base.update(rated.pop(0)[0] if fresh else rated[blocks.index(0.0)][0])
        out = []
        for rates, valid in rated:
            succ = rates[judge.name] if add else 1 - rates[judge.name]
            diffs = {o.name: abs(rates[o.name] - base[o.name]) for o in others}
            diffs = {k: d for k, d in diffs.items() if not math.isnan(d)}
            moved = max(diffs, key=diffs.get) if diffs else None
            out.append((succ, diffs.get(moved, 0.0), valid, moved))
        return out

    return evaluate


def calibrate(steerer: Any, model: Any, task: Any, judge: Any, *, target: float = 0.9, limits: Any = None,
              low: float = 0.0, high: float | None = None, rounds: int = 4, points: int = 4, tol: float = 0.02,
              others: Sequence[Any] | None = None, add: bool | None = None, seed: int = 0,
              keep: bool = True, above: bool = True) -> StrengthCalibration:
    """The weakest strength reaching ``target`` success on ``task`` within ``limits`` (``mi.compare``'s
    :class:`~musicinterp.compare.intervals.Limits`: ``min_validity``, ``max_collateral``; a dict works too).

    ``judge``: the target judge (or its concept's name); ``others``: the collateral judges (default: the
    world's other judges); ``high``: top of the search (default: the world's sweep maximum, 1 for bounded
    edits). With ``keep`` the found strength becomes the steerer's default (``meta["calibrated_strength"]``);
    ``above`` looks above a weakest strength that breaks the limits (see :func:`search_strength`).
    """
    from ..judges.base import Limits

    limits = Limits(**limits) if isinstance(limits, dict) else limits or Limits()
    if not 0 < target <= 1:
        raise SteererConfigError(f"strength finder: target must be a success rate in (0, 1], got {target}")
    judge = _resolve_judge(model, judge)
    if others is None:
        others = [j for j in model.world.default_judges() if j.name != judge.name]
    add = (not steerer.remove) if add is None else add
    high = _default_high(steerer, model) if high is None else float(high)
    evaluate = round_evaluator(steerer, model, task, judge, list(others), add, seed)
    result = search_strength(evaluate, float(low), high, target=target, limits=limits, rounds=rounds,
                             points=points, tol=tol, above=above)
    result.settings = {"task": task.name, "n": task.n, "judge": judge.name, "low": float(low), "high": high,
                       "max_collateral": limits.max_collateral, "min_validity": limits.min_validity, "seed": seed}
    if keep and result.chosen is not None:
        steerer.meta["calibrated_strength"] = result.chosen
        steerer.meta["calibration"] = {"target": target, "rounds": result.rounds, **result.settings}
    return result
