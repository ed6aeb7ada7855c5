"""Method comparison: every method on the same prompts, seeds and lengths, the unsteered baseline included.

:func:`compare` works on any model: tasks are user-defined
(:func:`~musicinterp.compare.tasks.text_task`,
:func:`~musicinterp.compare.tasks.continuation_task`), judges read codes or
decoded audio, fidelity is NLL under the unsteered model plus the token
distance to unsteered generations. :func:`run_comparison` is its preset from
the model's world (``model.world.tasks``: on the organism, continuations of
clips without the concept, or with it to remove it; text prompts that say
nothing of it; text prompts that ask for its opposite), scored by the world's
judges (the organism's exact detectors). Each
method's strength is swept; the best setting per method is the most successful
one within the validity and collateral limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from ..errors import InputError
from ..judges import Judge, KeptJudge
from ..models.musicgen import MusicGen
from ..models.sources import world_of
from ..steering import Steerer, control_of
from ..steering import controls as random_controls
from .controls import attach_controls
from .intervals import Limits
from .scoring import Examples, Scorer, floor_figures, with_intervals
from .tasks import (
    DEFAULT_MAX_ROWS,
    SettingResult,
    Task,
    resampled_baseline,
    run_task,
    setting_fields,
)

__all__ = ["compare", "run_comparison", "Comparison", "Task", "SettingResult", "DEFAULT_SWEEPS"]

FLOOR_METHOD = "unsteered (re-sampled)"

DEFAULT_SWEEPS: dict[str, list[float]] = {  # by variant name, else by method family
    "iti": [1.0, 2.0, 5.0, 10.0],
    "smitin": [10.0, 15.0, 20.0, 25.0],
    "smitin-s5": [25.0, 50.0, 75.0, 100.0],
    "diffmeans": [1.5, 2.0, 2.5, 3.0],
    "regression": [0.05, 0.1, 0.15, 0.2],
    "sae": [0.5, 1.0, 2.0, 4.0],
}


@dataclass
class Comparison:
    """Every setting's row (``rows``) and each task's unsteered baseline (``unsteered``), with the limits."""

    target: str
    add: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    unsteered: dict[str, dict[str, Any]] = field(default_factory=dict)
    floor: dict[str, dict[str, Any]] = field(default_factory=dict)  # per task: a re-sampled baseline, scored

    max_collateral: float = 0.10
    min_validity: float = 0.95
    judges: list[str] = field(default_factory=list)
    min_success: float = 0.9
    # each setting's per-prompt outcomes, by (task, method, strength): for intervals over several rows
    examples: dict[tuple[str, str, float], Examples] = field(default_factory=dict, repr=False)
    # with keep_results: each task's unsteered codes (prompt included), beside the rows' ``result``
    baseline_codes: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def limits(self) -> Limits:
        return Limits(self.min_success, self.min_validity, self.max_collateral)

    def verdicts(self, task: str | None = None) -> dict[str, int]:
        """How many settings (of ``task``, else all) pass, fail or are undecided at their intervals."""
        rows = [r for r in self.rows if task is None or r["task"] == task]
        return {v: sum(r.get("verdict") == v for r in rows) for v in ("pass", "fail", "undecided")}

    def within_limits(self, row: dict[str, Any], max_collateral: float | None = None,
                      min_validity: float | None = None) -> bool:
        """Validity (where the model has a grammar) and collateral inside the limits."""
        lim_c = self.max_collateral if max_collateral is None else max_collateral
        lim_v = self.min_validity if min_validity is None else min_validity
        validity = row.get("validity")
        return (validity is None or validity >= lim_v) and row["collateral"] <= lim_c

    def best(self, task: str, max_collateral: float | None = None, min_validity: float | None = None
             ) -> list[dict[str, Any]]:
        """Per method, the most successful setting within the validity and collateral limits.

        A method with no setting inside the limits gets its most successful setting, marked
        ``within_limits=False`` (every table shows the flag): it is not a best setting.
        """
        out = []
        for method in dict.fromkeys(r["method"] for r in self.rows if r["task"] == task
                                    and control_of(r["method"]) is None):
            rows = [r for r in self.rows if r["task"] == task and r["method"] == method]
            ok = [r for r in rows if self.within_limits(r, max_collateral, min_validity)]
            pick = max(ok or rows, key=lambda r: (r["success"], -r["nll_increase"]))
            out.append({**pick, "within_limits": bool(ok)})
        return out

    def to_pandas(self):
        """Every setting (and the unsteered baselines) as one row each, with the within-limits flag and, when
        measured, the task's ``collateral_floor``."""
        import pandas as pd

        rows = [{**r, "within_limits": True} for r in self.unsteered.values()]
        rows += [{**r, "within_limits": self.within_limits(r)} for r in self.rows]
        drop = {"collateral_by_judge", "collateral_unmeasured", "result"}
        frame = pd.DataFrame([{k: v for k, v in r.items() if k not in drop} for r in rows])
        if self.floor and len(frame):  # each row next to its task's floor (None where it was not measured)
            frame["collateral_floor"] = [self.floor[t]["collateral"] if t in self.floor else None
                                         for t in frame["task"]]
        return frame

    def __repr__(self) -> str:
        tasks = ", ".join(self.unsteered) or "none"
        methods = ", ".join(dict.fromkeys(r["method"] for r in self.rows)) or "none"
        v = self.verdicts()
        inside = sum(self.within_limits(r) for r in self.rows)
        floor = "; collateral floor " + ", ".join(
            f"{t} {r['collateral']:.2f} [{r['collateral_lo']:.2f}, {r['collateral_hi']:.2f}]"
            for t, r in self.floor.items()) if self.floor else ""
        return (f"Comparison({'add' if self.add else 'remove'} {self.target!r}: tasks {tasks}; methods {methods}; "
                f"{len(self.rows)} settings, {inside} within limits; at their intervals {v['pass']} pass, "
                f"{v['fail']} fail, {v['undecided']} undecided"
                f"{floor})")

    def collateral_floor(self, task: str) -> float:
        """How far a second unsteered sample of ``task`` (other prompts' noise) moves the judges: the
        collateral that sampling alone produces at this ``n``, against which a setting's collateral reads."""
        if task not in self.floor:
            raise KeyError(f"no collateral floor for task {task!r} (compare(..., noise_floor=True) measures it); "
                           f"tasks with one: {sorted(self.floor)}")
        return float(self.floor[task]["collateral"])


def run_comparison(model: MusicGen, steerers: dict[str, Steerer], target: str, *, add: bool = True,
                   tasks: Sequence[Task] | None = None, sweeps: dict[str, Sequence[float]] | None = None,
                   seed: int = 0, n: int = 32, **kwargs: Any) -> Comparison:
    """:func:`compare` on the model world's default tasks for ``target`` (``model.world.tasks``, or ``tasks``),
    scored by the world's judges (on the organism: every planted concept and nuisance, key and tempo kept)."""
    tasks = list(tasks) if tasks is not None else world_of(model).tasks(target, n=n, seed=seed, add=add)
    return compare(model, steerers, tasks, sweeps=sweeps, target=target, add=add, seed=seed, **kwargs)


def compare(model: MusicGen, steerers: dict[str, Steerer], tasks: Sequence[Task], judges: Sequence[Judge] | None = None,
            sweeps: dict[str, Sequence[float]] | None = None, *, target: str | None = None, add: bool = True,
            seed: int = 0, continuity: Sequence[KeptJudge] | None = None, max_collateral: float = 0.10,
            min_validity: float = 0.95, min_success: float = 0.9, progress: bool = True, keep_results: bool = False,
            batched: bool = True, max_rows: int | None = DEFAULT_MAX_ROWS, paired: bool = True,
            noise_floor: bool = True, controls: int = 0, measures: Sequence[Any] | None = None,
            calibrated: bool = False) -> Comparison:
    """Compare steering methods on any model: every method on the same tasks, the unsteered baseline in the table.

    ``judges`` read the generated frames (default: the model world's concept and nuisance judges,
    ``model.world.default_judges()``); the one whose name or concept is ``target`` (default: the steerers'
    common concept) gives success, every judge of another concept gives collateral (change of its rate against
    the unsteered rate). On continuations the ``continuity`` judges (key kept, tempo
    kept; default from the world) join collateral. Fidelity: NLL of the generated
    frames under the unsteered model, token distance to the unsteered generations,
    and validity where the world has a grammar. ``sweeps`` maps a steerer name (or
    method family) to its strengths; the world's recommended sweeps fill the rest. With ``batched``
    each task runs as one generation (unsteered rows and every steerer's every strength,
    up to ``max_rows`` rows a generation, prompts in parts where ``2n`` rows pass it:
    :func:`~musicinterp.compare.tasks.prompt_parts`), else one generation per setting. With
    ``paired`` (the default) every setting samples prompt ``i`` with the same keyed
    noise as the unsteered baseline (common random numbers): a setting that changes
    nothing reproduces the baseline's codes, so collateral is not sampling noise.
    With ``noise_floor`` each task is generated unsteered once more with other noise
    (keys ``n..2n-1``, or the next seed unpaired) and scored like a setting
    (``Comparison.floor``; ``collateral_floor`` in ``to_pandas()``): its collateral is what
    sampling alone moves the judges by at this ``n``, the floor under any setting's
    collateral once steering has changed a token and the continuation diverges.
    Every row carries 95% intervals and a ``verdict`` (pass, fail, undecided against the limits;
    :mod:`~musicinterp.compare.intervals`); ``controls`` random-direction draws per direction method
    run beside it (:mod:`~musicinterp.compare.controls`); ``measures`` (``mi.measures`` embedders; default
    the world's) add FAD, KAD and preservation (:mod:`~musicinterp.compare.preservation`). ``calibrated``: a
    steerer with a calibrated strength runs at it alone; each row's ``strength_from`` says "calibrated" or "grid".
    """
    tasks, judges, target, target_judge = _check_inputs(model, steerers, tasks, judges, target)
    if controls:  # random-direction controls, run in the same batches as their methods
        steerers = {**steerers, **random_controls(steerers, controls, seed)}
    world = world_of(model)
    continuity = list(continuity) if continuity is not None else world.continuity_judges()
    strengths, strength_from = _strengths({**world.sweeps, **(sweeps or {})}, steerers, calibrated)
    comp = Comparison(target=target, add=add, max_collateral=max_collateral, min_validity=min_validity,
                      judges=[j.name for j in judges], min_success=min_success)
    measures = list(measures) if measures is not None else world.default_measures(model)
    scorer = Scorer(model, judges, target_judge, continuity, add, measures)
    bar = tqdm(total=len(tasks) * (1 + noise_floor + sum(map(len, strengths.values()))),
               desc=f"comparing methods on {target}", disable=not progress)
    for task in tasks:
        task_seed = seed if task.seed is None else task.seed
        base_codes, settings = run_task(model, steerers, strengths, task, task_seed, batched, max_rows, paired)
        cap = max_rows if batched else None
        base, base_ex = _add_baselines(comp, scorer, task, base_codes,
                                       resampled_baseline(model, task, task_seed, paired, cap) if noise_floor else None)
        bar.update(1 + noise_floor)
        comp.baseline_codes.update({task.name: base_codes} if keep_results else {})
        _add_rows(comp, scorer, task, base_codes, (base, base_ex), settings, strengths, strength_from,
                  keep_results, bar)
    bar.close()
    if any(control_of(name) is not None for name in steerers):  # controls made here or passed in by name
        attach_controls(comp)
    return comp


def _add_baselines(comp: Comparison, scorer: Scorer, task: Task, base_codes: torch.Tensor,
                   again: torch.Tensor | None) -> tuple[dict[str, Any], Examples]:
    """The task's unsteered row and, with ``again`` (a re-sampled unsteered run), its noise-floor row."""
    base, base_ex = scorer(base_codes, task, base_codes, None)
    base = with_intervals(base, base_ex, None, comp.limits)
    comp.examples[(task.name, "unsteered", 0.0)] = base_ex
    comp.unsteered[task.name] = {"task": task.name, "method": "unsteered", "strength": 0.0, **base,
                                 "within_limits": True}
    if again is not None:
        row, ex = scorer(again, task, base_codes, base)
        row = with_intervals(row, ex, base_ex, comp.limits)
        comp.floor[task.name] = {"task": task.name, "method": FLOOR_METHOD, "strength": 0.0, **row,
                                 "n_for_halfwidth_5pt": floor_figures(row, task.n)["n_for_halfwidth_5pt"]}
    return base, base_ex


def _add_rows(comp: Comparison, scorer: Scorer, task: Task, base_codes: torch.Tensor, base: tuple[dict, Examples],
              settings: dict[str, list], strengths: dict[str, list[float]], strength_from: dict[str, str],
              keep_results: bool, bar: Any) -> None:
    """One scored row per steerer and strength of ``task``, with its intervals, verdict and limits flag."""
    for name, results in settings.items():
        for strength, res in zip(strengths[name], results, strict=True):
            scored, ex = scorer(res.codes, task, base_codes, base[0])
            comp.examples[(task.name, name, strength)] = ex
            row = {"task": task.name, "method": name, "strength": strength, "strength_from": strength_from[name],
                   **with_intervals(scored, ex, base[1], comp.limits), **setting_fields(res)}
            row["within_limits"] = comp.within_limits(row)
            if keep_results:
                row["result"] = res
            comp.rows.append(row)
            bar.update(1)


def _check_inputs(model: MusicGen, steerers: dict[str, Steerer], tasks: Sequence[Task],
                  judges: Sequence[Judge] | None, target: str | None) -> tuple[list[Task], list[Judge], str, Judge]:
    """Tasks, judges (default: the world's), the target concept and the judge that reads it, checked."""
    tasks = list(tasks)
    if not tasks or not all(isinstance(t, Task) for t in tasks):
        raise InputError("tasks must be a non-empty list of Task (see text_task, continuation_task, model.world.tasks)")
    if not isinstance(steerers, dict):
        raise InputError(f"steerers must be a dict name -> Steerer, got {type(steerers).__name__}")
    judges = list(judges) if judges is not None else world_of(model).default_judges()
    names = [j.name for j in judges]
    if len(set(names)) != len(names):
        raise InputError(f"judges must have distinct names, got {names}")
    if target is None:
        concepts = {s.concept for s in steerers.values()}
        if len(concepts) != 1:
            raise InputError(f"target is required: the steerers act on {sorted(concepts) or 'nothing'}")
        target = concepts.pop()
    target_judge = next((j for j in judges if target in (j.name, j.concept)), None)
    if target_judge is None:
        raise InputError(f"no judge reads target {target!r}; judges: {[j.name for j in judges]}")
    return tasks, judges, target, target_judge


def _strengths(sweeps: dict[str, Sequence[float]], steerers: dict[str, Steerer], calibrated: bool
               ) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Each steerer's strengths and where they came from: its calibrated strength alone (``"calibrated"``, with
    ``calibrated`` and a strength found by ``steerer.calibrate``; a control takes its method's), else the sweep
    (``"grid"``)."""
    strengths, source = {}, {}
    for name, steerer in steerers.items():
        owner = steerers.get(control_of(name) or name, steerer)
        found = owner.meta.get("calibrated_strength") if calibrated else None
        if found is not None:
            strengths[name], source[name] = [float(found)], "calibrated"
        else:
            strengths[name], source[name] = [float(x) for x in _sweep(sweeps, name)], "grid"
    return strengths, source


def _sweep(sweeps: dict[str, Sequence[float]], name: str) -> Sequence[float]:
    """Strengths for steerer ``name``: by name, without its ``@layers`` part, else by method family (before ``-``)."""
    name = control_of(name) or name  # a control sweeps its method's strengths
    for key in (name, name.split("@")[0], name.split("@")[0].split("-")[0]):
        if key in sweeps:
            return sweeps[key]
    raise InputError(f"sweeps has no strengths for steerer {name!r}: pass sweeps={{{name!r}: [...]}}")
