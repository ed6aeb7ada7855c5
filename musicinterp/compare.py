"""Method comparison on the organism: every method on the same prompts, seeds and lengths.

Two tasks per target concept: *continuation* (a clip without the concept,
continued) and *text* (prompts that say nothing of the concept, and prompts
that ask for its opposite). Each method's strength is swept; each setting is
scored against ground truth, and the best setting per method is the most
successful one that keeps validity >= 0.9 and moves no other concept by more
than 15 points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from .evaluate import organism_metrics
from .generation import generate
from .models.musicgen import MusicGen
from .organism.prompts import phrase
from .organism.world import CONCEPTS, OrganismWorld
from .steering import Steerer, steer

DEFAULT_SWEEPS: dict[str, list[float]] = {  # by variant name, else by method family
    "iti": [1.0, 2.0, 5.0, 10.0],
    "smitin": [10.0, 15.0, 20.0, 25.0],
    "smitin-s5": [25.0, 50.0, 75.0, 100.0],
    "diffmeans": [1.5, 2.0, 2.5, 3.0],
    "regression": [0.05, 0.1, 0.15, 0.2],
}


@dataclass
class Task:
    """One generation setting shared by every method."""

    name: str
    kwargs: dict[str, Any]
    prompt_frames: int = 0


def organism_tasks(target: str, *, n: int = 32, prompt_frames: int = 200, new_frames: int = 200, seed: int = 0,
                   add: bool = True) -> list[Task]:
    """Continuation of clips lacking (or, to remove, holding) ``target``, and text prompts."""
    world = OrganismWorld(prompt_frames)
    start_value = 0 if add else 1
    clips = [world.with_concept(world.sample(90_000 + seed * 1000 + i), target, start_value) for i in range(n)]
    prompt = torch.stack([c.codes for c in clips])
    others = [c for c in CONCEPTS if c != target]
    gen = torch.Generator().manual_seed(seed)
    neutral = []
    for _ in range(n):  # prompts that mention other concepts only (sometimes nothing)
        words = [phrase(c, int(torch.randint(0, 2, (1,), generator=gen))) for c in others
                 if torch.rand(1, generator=gen) < 0.5]
        neutral.append(" ".join(words))
    opposite = [phrase(target, 0 if add else 1)] * n
    return [
        Task("continuation", {"prompt_codes": prompt, "batch": n, "n_frames": new_frames}, prompt_frames),
        Task("text", {"text": neutral, "n_frames": new_frames}),
        Task("text-opposite", {"text": opposite, "n_frames": new_frames}),
    ]


@dataclass
class Comparison:
    target: str
    add: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    unsteered: dict[str, dict[str, Any]] = field(default_factory=dict)

    max_collateral: float = 0.15
    min_validity: float = 0.9

    def within_limits(self, row: dict[str, Any]) -> bool:
        return row["validity"] >= self.min_validity and row["collateral"] <= self.max_collateral

    def best(self, task: str, max_collateral: float | None = None, min_validity: float | None = None
             ) -> list[dict[str, Any]]:
        """Per method, the most successful setting within the validity and collateral limits.

        A method with no setting inside the limits gets its most successful setting, marked
        ``within_limits=False`` (every table shows the flag): it is not a best setting.
        """
        lim_c = self.max_collateral if max_collateral is None else max_collateral
        lim_v = self.min_validity if min_validity is None else min_validity
        out = []
        for method in dict.fromkeys(r["method"] for r in self.rows if r["task"] == task):
            rows = [r for r in self.rows if r["task"] == task and r["method"] == method]
            ok = [r for r in rows if r["validity"] >= lim_v and r["collateral"] <= lim_c]
            pick = max(ok or rows, key=lambda r: (r["success"], -r["nll_increase"]))
            out.append({**pick, "within_limits": bool(ok)})
        return out

    def to_pandas(self):
        """Every setting (and the unsteered baselines) as one row each, with the within-limits flag."""
        import pandas as pd

        rows = [{**r, "within_limits": True} for r in self.unsteered.values()]
        rows += [{**r, "within_limits": self.within_limits(r)} for r in self.rows]
        drop = {"collateral_by_concept", "result"}
        return pd.DataFrame([{k: v for k, v in r.items() if k not in drop} for r in rows])

    def __repr__(self) -> str:
        tasks = ", ".join(self.unsteered) or "none"
        methods = ", ".join(dict.fromkeys(r["method"] for r in self.rows)) or "none"
        inside = sum(self.within_limits(r) for r in self.rows)
        return (f"Comparison({'add' if self.add else 'remove'} {self.target!r}: tasks {tasks}; methods {methods}; "
                f"{len(self.rows)} settings, {inside} within limits)")


def _score(reference: MusicGen, codes: torch.Tensor, task: Task, target: str, add: bool,
           base: dict[str, Any] | None, cond) -> dict[str, Any]:
    m = organism_metrics(reference, codes, task.prompt_frames, cond)
    rate = m.rates[target]
    row: dict[str, Any] = {"success": rate if add else 1 - rate, "validity": m.validity, "nll": m.nll,
                           **{f"rate_{c}": v for c, v in m.rates.items()}}
    if m.key_kept is not None:
        row.update(key_kept=m.key_kept, tempo_kept=m.tempo_kept)
    if base is not None:
        row["nll_increase"] = m.nll - base["nll"]
        moves = {c: abs(m.rates[c] - base[f"rate_{c}"]) for c in CONCEPTS if c != target}
        row["collateral"] = max(moves.values())
        row["collateral_by_concept"] = moves
    else:
        row.update(nll_increase=0.0, collateral=0.0)
    return row


def run_comparison(model: MusicGen, steerers: dict[str, Steerer], target: str, *, add: bool = True,
                   tasks: Sequence[Task] | None = None, sweeps: dict[str, Sequence[float]] | None = None,
                   seed: int = 0, n: int = 32, progress: bool = True, keep_results: bool = False,
                   batched: bool = True) -> Comparison:
    """Sweep every steerer's strength on every task; unsteered generation is the baseline of each task.

    With ``batched`` (the default) each steerer's whole strength sweep runs as rows of one generation,
    each row with its own strength; greedy decoding gives the same codes as one setting at a time.
    """
    tasks = list(tasks) if tasks is not None else organism_tasks(target, n=n, seed=seed, add=add)
    sweeps = {**DEFAULT_SWEEPS, **(sweeps or {})}
    comp = Comparison(target=target, add=add)
    total = len(tasks) * (1 + sum(len(_sweep(sweeps, name)) for name in steerers))
    bar = tqdm(total=total, desc=f"comparing methods on {target}", disable=not progress)
    for task in tasks:
        cond = model.conditioning(text=task.kwargs["text"]) if "text" in task.kwargs else None
        base_codes = generate(model, seed=seed, decode_audio=False, **task.kwargs).codes
        base = _score(model, base_codes, task, target, add, None, cond)
        comp.unsteered[task.name] = {"task": task.name, "method": "unsteered", "strength": 0.0, **base}
        bar.update(1)
        for name, steerer in steerers.items():
            strengths = list(_sweep(sweeps, name))
            if batched:
                results = _sweep_in_one_batch(model, steerer, strengths, task, seed)
            else:
                results = [_as_setting(steer(model, steerer, strength=s, seed=seed, decode_audio=False,
                                             **task.kwargs)) for s in strengths]
            for strength, res in zip(strengths, results, strict=True):
                row = {"task": task.name, "method": name, "strength": float(strength),
                       **_score(model, res.codes, task, target, add, base, cond)}
                row["steps_edited"] = res.steps_edited
                if res.readings is not None:
                    readings = res.readings
                    row["monitor_final"] = float(readings[-1].mean())
                    # prompts whose monitor read the trait as present (reading >= tau) at some step after warm-up
                    row["monitor_reached_tau"] = float((readings[res.warmup:] >= res.tau).any(0).float().mean())
                if keep_results:
                    row["result"] = res
                comp.rows.append(row)
                bar.update(1)
    bar.close()
    return comp


@dataclass
class SettingResult:
    """One strength setting's share of a (possibly batched) steered generation."""

    codes: torch.Tensor
    steps_edited: float
    readings: torch.Tensor | None = None  # (steps, n) monitor readings
    tau: float = 0.5
    warmup: int = 0


def _as_setting(res: Any) -> SettingResult:
    trace = next(iter(res.monitors.values()), None)
    steps = sum(len(log.steps) for log in res.logs.values()) / max(1, len(res.logs))
    if trace is None:
        return SettingResult(res.codes, steps)
    readings, used = trace.as_tensors()
    return SettingResult(res.codes, float((used > 0).any(1).sum()), readings, trace.tau, trace.warmup)


def _tile(kwargs: dict[str, Any], times: int) -> dict[str, Any]:
    """Task kwargs with every prompt repeated ``times`` times (settings stacked along the batch)."""
    out = dict(kwargs)
    for key in ("prompt_codes", "input_ids", "attention_mask"):
        if out.get(key) is not None:
            out[key] = torch.cat([torch.as_tensor(out[key])] * times)
    if out.get("text") is not None:
        out["text"] = list(out["text"]) * times
    if out.get("batch") is not None:
        out["batch"] = out["batch"] * times
    return out


def _task_batch(kwargs: dict[str, Any]) -> int:
    for key in ("prompt_codes", "input_ids"):
        if kwargs.get(key) is not None:
            return int(torch.as_tensor(kwargs[key]).shape[0])
    if kwargs.get("text") is not None:
        return len(kwargs["text"])
    return int(kwargs.get("batch") or 1)


def _sweep_in_one_batch(model: MusicGen, steerer: Steerer, strengths: Sequence[float], task: Task,
                        seed: int) -> list[SettingResult]:
    n = _task_batch(task.kwargs)
    per_row = torch.tensor([float(s) for s in strengths]).repeat_interleave(n)
    res = steer(model, steerer, strength=per_row, seed=seed, decode_audio=False, **_tile(task.kwargs, len(strengths)))
    trace = next(iter(res.monitors.values()), None)
    readings, used = trace.as_tensors() if trace is not None else (None, None)
    log = next(iter(res.logs.values()))
    out = []
    for i in range(len(strengths)):
        rows = slice(i * n, (i + 1) * n)
        if used is not None:
            edited = float((used[:, rows] > 0).any(1).sum())
            out.append(SettingResult(res.codes[rows], edited, readings[:, rows], trace.tau, trace.warmup))
        else:
            out.append(SettingResult(res.codes[rows], float(len(log.steps)) if strengths[i] else 0.0))
    return out


def _sweep(sweeps: dict[str, Sequence[float]], name: str) -> Sequence[float]:
    return sweeps[name] if name in sweeps else sweeps[name.split("-")[0]]
