"""The steering matrix: every method x concept x direction (add, remove) x task, at each method's best setting.

:func:`steering_matrix` runs :func:`~musicinterp.compare.run_comparison` once per
(concept, direction) with the methods ``build(concept, remove)`` gives, on the
same prompts, seeds and lengths for every method, and keeps each
:class:`~musicinterp.compare.Comparison`. A cell of the matrix is one method's
best setting for one concept, direction and task (the most successful one
within the validity and collateral limits, else the most successful one,
flagged ``within_limits=False``). A cell's ``verdict`` reads the intervals of
every setting the method tried: *pass* when some setting passes (success,
validity and collateral each clear of its limit at 95%), *fail* when every
setting fails (some interval wholly on the wrong side), else *undecided*.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..errors import InputError
from ..models.musicgen import MusicGen
from ..models.sources import world_of
from ..steering import Steerer, control_of
from .run import Comparison, run_comparison
from .tasks import Task

__all__ = ["steering_matrix", "SteeringMatrix", "missed_bars", "cell_verdict", "CELL_FIELDS", "DIRECTIONS"]

DIRECTIONS: tuple[str, ...] = ("add", "remove")
CELL_FIELDS: tuple[str, ...] = ("success", "success_lo", "success_hi", "validity", "validity_lo", "validity_hi",
                                 "collateral", "collateral_lo",
                                 "collateral_hi", "nll_increase", "within_limits", "strength", "strength_from",
                                 "control_success", "beats_control", "verdict")


def cell_verdict(rows: list[dict[str, Any]]) -> str | None:
    """A method's verdict over its settings: pass if one passes, fail if all fail, else undecided (``None`` for
    rows without intervals, e.g. read from an older run)."""
    if not any("verdict" in r for r in rows):
        return None
    verdicts = [r.get("verdict", "undecided") for r in rows]
    return "pass" if "pass" in verdicts else "fail" if verdicts and all(v == "fail" for v in verdicts) \
        else "undecided"
_DROP = ("collateral_by_concept", "collateral_by_judge", "collateral_unmeasured", "result")


def _most_moved(row: dict[str, Any]) -> str | None:
    moves = row.get("collateral_by_judge") or {}
    return max(moves, key=moves.get) if moves else None


def missed_bars(cell: dict[str, Any], floor: float | None = None, min_success: float = 0.9,
                min_validity: float = 0.95, max_collateral: float = 0.10) -> str:
    """The bars a cell's setting misses, e.g. ``"success 84% < 90%; collateral 0.16 > 0.10 (floor 0.12)"``
    (empty when it passes); ``floor`` is the task's collateral floor, when measured."""
    missed = []
    if cell["success"] < min_success:
        missed.append(f"success {cell['success']:.0%} < {min_success:.0%}")
    if cell.get("validity") is not None and cell["validity"] < min_validity:
        missed.append(f"validity {cell['validity']:.2f} < {min_validity:.2f}")
    if cell["collateral"] > max_collateral:
        missed.append(f"collateral {cell['collateral']:.2f} > {max_collateral:.2f}"
                      + (f" (floor {floor:.2f})" if floor is not None else ""))
    return "; ".join(missed)


@dataclass
class SteeringMatrix:
    """One :class:`Comparison` per (concept, direction); cells are each method's best setting per task."""

    comparisons: dict[tuple[str, str], Comparison] = field(default_factory=dict)
    min_success: float = 0.9
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # wall time per (concept, direction)

    @property
    def concepts(self) -> list[str]:
        return list(dict.fromkeys(c for c, _ in self.comparisons))

    @property
    def directions(self) -> list[str]:
        return list(dict.fromkeys(d for _, d in self.comparisons))

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(t for comp in self.comparisons.values() for t in comp.unsteered))

    @property
    def methods(self) -> list[str]:
        """The methods compared (their random-direction controls are rows, not methods)."""
        return list(dict.fromkeys(r["method"] for comp in self.comparisons.values() for r in comp.rows
                                  if control_of(r["method"]) is None))

    def best_rows(self, task: str = "continuation") -> list[dict[str, Any]]:
        """Every cell's best row for ``task`` (``Comparison.best``), with its concept and direction and the judge its
        collateral comes from (``most_moved``)."""
        out = []
        for (concept, direction), comp in self.comparisons.items():
            if task not in comp.unsteered:
                continue
            for r in comp.best(task):
                mine = [x for x in comp.rows if x["task"] == task and x["method"] == r["method"]]
                out.append({**{k: v for k, v in r.items() if k not in _DROP}, "concept": concept,
                            "direction": direction, "setting_verdict": r.get("verdict"), "verdict": cell_verdict(mine),
                            "most_moved": _most_moved(r), "unmeasured": sorted(r.get("collateral_unmeasured") or {})})
        return out

    def cells(self, task: str = "continuation") -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
        """``cells[method][concept][direction]`` = the best setting's success, validity, collateral,
        NLL increase, within-limits flag and strength, ``most_moved``: the judge its collateral comes from, and
        ``unmeasured``: the collateral judges that decided too few prompts to read a move from."""
        if task not in self.tasks:
            raise InputError(f"task must be one of {self.tasks}, got {task!r}")
        out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        for row in self.best_rows(task):
            cell = {k: row.get(k) for k in CELL_FIELDS} | {"most_moved": row["most_moved"],
                                                           "unmeasured": row["unmeasured"]}
            out.setdefault(row["method"], {}).setdefault(row["concept"], {})[row["direction"]] = cell
        return out

    def passes(self, cell: dict[str, Any]) -> bool:
        """The cell's verdict is pass (rows without intervals: within the limits with success >= ``min_success``)."""
        if cell.get("verdict") is not None:
            return cell["verdict"] == "pass"
        return bool(cell["within_limits"]) and cell["success"] >= self.min_success

    def cells_passing(self, task: str = "continuation") -> int:
        return sum(self.passes(r) for r in self.best_rows(task))

    def verdict_counts(self, task: str = "continuation") -> dict[str, int]:
        """How many cells pass, fail or are undecided at their intervals."""
        cells = self.best_rows(task)
        passing = sum(self.passes(c) for c in cells)
        failing = sum(c["verdict"] == "fail" for c in cells)
        return {"pass": passing, "fail": failing, "undecided": len(cells) - passing - failing}

    def cells_total(self, task: str = "continuation") -> int:
        return len(self.best_rows(task))

    def unsteered(self, task: str = "continuation") -> dict[str, dict[str, dict[str, Any]]]:
        """``[concept][direction]`` = the unsteered baseline row of ``task`` (its success is the starting rate)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for (concept, direction), comp in self.comparisons.items():
            if task in comp.unsteered:
                row = {k: v for k, v in comp.unsteered[task].items() if k not in _DROP}
                out.setdefault(concept, {})[direction] = row
        return out

    def collateral_floor(self, task: str = "continuation") -> dict[str, dict[str, float]]:
        """``[concept][direction]`` = the collateral of a re-sampled unsteered run of ``task``: what sampling
        alone moves the other judges by at this ``n`` (empty when the comparisons ran without ``noise_floor``)."""
        out: dict[str, dict[str, float]] = {}
        for (concept, direction), comp in self.comparisons.items():
            if task in comp.floor:
                out.setdefault(concept, {})[direction] = comp.collateral_floor(task)
        return out

    def explain(self, task: str = "continuation"):
        """Why each cell passes or not: one row per method x concept x direction.

        The best setting's figures, the collateral floor, the judge that moved most, and
        ``limits``, the bars it misses (``"success 84% < 90%"``, ``"validity 0.91 < 0.95"``,
        ``"collateral 0.16 > 0.10 (floor 0.12)"``); then the setting that shows what stands
        in the way: the weakest one reaching ``min_success`` (else the most successful one),
        as ``reach_strength``, ``reach_success``, ``reach_limits`` and ``reach_most_moved``.
        """
        import pandas as pd

        rows = []
        for (concept, direction), comp in self.comparisons.items():
            if task not in comp.unsteered:
                continue
            floor = comp.floor[task]["collateral"] if task in comp.floor else None
            bars = partial(missed_bars, floor=floor, min_success=self.min_success, min_validity=comp.min_validity,
                           max_collateral=comp.max_collateral)
            for r in comp.best(task):
                mine = sorted((x for x in comp.rows if x["task"] == task and x["method"] == r["method"]),
                              key=lambda x: x["strength"])
                reach = next((x for x in mine if x["success"] >= self.min_success),
                             max(mine, key=lambda x: x["success"]))
                rows.append({"method": r["method"], "concept": concept, "direction": direction,
                             "strength": r["strength"], "success": r["success"], "validity": r.get("validity"),
                             "collateral": r["collateral"], "collateral_floor": floor, "most_moved": _most_moved(r),
                             "verdict": cell_verdict(mine), "passes": self.passes({**r, "verdict": cell_verdict(mine)}),
                             "limits": bars(r), "reach_strength": reach["strength"],
                             "reach_success": reach["success"], "reach_limits": bars(reach),
                             "reach_most_moved": _most_moved(reach)})
        return pd.DataFrame(rows)

    def to_pandas(self):
        """One row per method x concept x direction x task: the best setting, with ``within_limits`` and ``passes``."""
        import pandas as pd

        rows = []
        for task in self.tasks:
            for row in self.best_rows(task):
                rows.append({"method": row["method"], "concept": row["concept"], "direction": row["direction"],
                             "task": task, **{k: v for k, v in row.items()
                                              if k not in ("method", "concept", "direction", "task")},
                             "passes": self.passes(row)})
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        if not self.comparisons:
            return "SteeringMatrix(empty)"
        task = "continuation" if "continuation" in self.tasks else self.tasks[0]
        v = self.verdict_counts(task)
        return (f"SteeringMatrix({len(self.methods)} methods x {len(self.concepts)} concepts x "
                f"{len(self.directions)} directions x {len(self.tasks)} tasks; {task}: {v['pass']}/"
                f"{self.cells_total(task)} cells pass, {v['fail']} fail, {v['undecided']} undecided at 95% "
                f"(success >= {self.min_success:g}, validity and collateral within limits))")


def steering_matrix(model: MusicGen, build: Callable[[str, bool], dict[str, Steerer]],
                    concepts: Sequence[str] | None = None, directions: Sequence[str] = DIRECTIONS, *, n: int = 32,
                    seed: int = 0, sweeps: dict[str, Sequence[float]] | None = None, progress: bool = True,
                    tasks: Callable[[str, bool], Sequence[Task]] | None = None, min_success: float = 0.9,
                    **compare_kwargs: Any) -> SteeringMatrix:
    """Run :func:`run_comparison` for every concept and direction; ``build(concept, remove)`` gives the methods.

    ``sweeps`` maps a steerer name (or method family) to its strengths, or is a
    callable ``(concept, add) -> dict`` for grids that differ per cell (removal
    often needs more strength than adding). ``tasks(concept, add)`` replaces the
    world's default tasks (``model.world.tasks``
    with ``n`` and ``seed``). ``compare_kwargs`` go to :func:`run_comparison`
    (limits, ``max_rows``, ``keep_results``...).
    """
    concepts = list(world_of(model).concepts if concepts is None else concepts)
    directions = list(directions)
    if not concepts or not all(isinstance(c, str) for c in concepts):
        raise InputError(f"concepts must be a non-empty list of concept names, got {concepts!r}")
    bad = [d for d in directions if d not in DIRECTIONS]
    if not directions or bad:
        raise InputError(f"directions must be a non-empty subset of {DIRECTIONS}, got {directions!r}")
    if not callable(build):
        raise InputError("build must be a callable (concept, remove) -> dict[name, Steerer]")
    matrix = SteeringMatrix(min_success=min_success)
    for concept in concepts:
        for direction in directions:
            add = direction == "add"
            t0 = time.perf_counter()
            steerers = build(concept, not add)
            if not isinstance(steerers, dict) or not steerers:
                raise InputError(f"build({concept!r}, remove={not add}) must return a non-empty dict name -> Steerer")
            grid = sweeps(concept, add) if callable(sweeps) else sweeps
            task_list = list(tasks(concept, add)) if tasks is not None else None
            comp = run_comparison(model, steerers, concept, add=add, tasks=task_list, sweeps=grid, seed=seed, n=n,
                                  progress=progress, min_success=min_success, **compare_kwargs)
            matrix.comparisons[(concept, direction)] = comp
            matrix.seconds[(concept, direction)] = time.perf_counter() - t0
            if progress:
                print(f"{direction} {concept}: {matrix.seconds[(concept, direction)] / 60:.1f} min; {comp!r}")
    return matrix
