"""The steering matrix on the organism: every method x the four planted concepts x add/remove x three tasks.

Methods: ITI (top 8 heads, every step), SMITIN (soft weights, s = 2) with its
monitor calibrated on judged generations, SMITIN at the paper's s = 5 (alpha
calibrated against s: a grid an order of magnitude stronger, and its monitor
calibrated at alpha 60), difference-in-means and regression-probe steering at
the last residual layer, and an SAE feature (one TopK SAE on the last
residual layer, its most selective feature per concept by AUC). Probes and
directions come from ``balanced_set(concept, 256, seed=7)`` per concept; the
monitors are calibrated on 16 continuations (seed 1) held out from the 32
(seed 0) the matrix measures. Tasks: continuation (4 s clip lacking the
concept, or holding it to remove it, continued 4 s), text that says nothing of
it, text asking for the opposite word. Limits: validity >= 0.95, collateral
(every other concept, the nuisances, key and tempo kept) <= 0.10.

Sweeps: the default grids of ``musicinterp.compare.DEFAULT_SWEEPS`` for adding;
for removing they are widened (``REMOVE_SWEEPS``) because subtracting a
concept the prompt keeps re-establishing takes more strength than adding one
(on drums, ITI removes at alpha 10, difference-in-means at lambda 5).

Output: a markdown table per task, then the JSON last line with
``cells[method][concept][direction]`` (continuation, with 95% intervals and each cell's
verdict), ``cells_pass``, ``cells_fail``, ``cells_undecided`` (verdicts at the intervals:
pass only where every interval clears its limit and success beats the random-direction
control), ``n_for_halfwidth_5pt`` (per pair, the prompts a +/-5-point collateral interval
needs, from the measured floor), ``controls`` (per cell: the controls' success at the
strength where the method first reaches 90%, and dose-response slopes), ``cells_passing``,
``cells_total``, ``smitin_monitor_stop_rate`` (continuations at SMITIN's best
setting where the detector finds the goal reached: the share where the monitor
crossed tau, and so stopped steering), ``smitin_s5_success`` (mean over cells of
SMITIN s = 5's continuation success within the limits, 0 where no setting is
within), the other tasks' cells, and ``minutes``.

    python benchmarks/steering_matrix.py [--n 32] [--concepts drums tempo] [--directions add remove]
        [--tasks continuation text text-opposite] [--methods iti smitin] [--sweep smitin=5,7.5 ...]

Precision variants (``--variants plain keep bounded both``, :mod:`matrix_variants`): each method also with
a keep-set (the other planted concepts and the nuisances dynamics and mode projected off), with the bounded
edit, and with both; ``onset`` starts the edit at the world's onset step (``World.onset_step``: the first
step where the voice may open a note on the world's grid), ``settle`` at the first such step a bar in
(``after=32``), so that from text alone the model first settles what the text left open; ``--calibrate`` runs
every steerer at the strength the strength finder calibrates on 16 held-out prompts (seed 1) of the task
``--calibrate-on`` names (continuations by default) instead of the grid; ``--sae-min-auc`` steers the SAE's feature set (AUC at or
above it) instead of its best feature; ``--clap organism`` scores each continuation cell with the CLAP judge
too; ``--save-codes DIR`` saves each continuation cell's best-setting codes (``benchmarks/clap_matrix.py`` re-judges
them with another CLAP); ``--partial FILE`` writes the pairs done after each pair, which ``python benchmarks/matrix_variants.py
FILE`` summarises (the variants table of docs/results.md):

    python benchmarks/steering_matrix.py --n 64 --tasks continuation --methods iti smitin diffmeans regression sae
        --variants plain keep bounded both --calibrate --controls 1 --sae-min-auc 0.8 --clap organism
        --partial variants.json

Sampling is paired (every setting samples prompt ``i`` with the baseline's keyed
noise), so the unsteered rows are the same in every run: a second run with
``--methods`` and ``--sweep`` extends one cell's strength grid consistently.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402
from matrix_variants import SETTLE_FRAMES, VARIANTS, calibrate_all, fit_variants, variant_name  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.compare.controls import dose_response  # noqa: E402
from musicinterp.compare.intervals import Limits  # noqa: E402
from musicinterp.compare.matrix import SteeringMatrix, steering_matrix  # noqa: E402
from musicinterp.compare.run import DEFAULT_SWEEPS  # noqa: E402
from musicinterp.organism.detectors import CONCEPT_DETECTORS  # noqa: E402
from musicinterp.steering import ApplySpec, control_of  # noqa: E402
from musicinterp.views.steering import markdown_table  # noqa: E402

CONCEPTS = ("drums", "tempo", "timbre", "bass")
TASKS = ("continuation", "text", "text-opposite")
METHODS = ("iti", "smitin", "smitin-s5", "diffmeans", "regression", "sae")
REMOVE_SWEEPS: dict[str, list[float]] = {
    "iti": [2.0, 5.0, 10.0, 20.0],
    "smitin": [15.0, 25.0, 40.0, 60.0],
    "smitin-s5": [50.0, 75.0, 100.0, 150.0],
    "diffmeans": [2.0, 3.0, 4.0, 5.0],
    "regression": [0.1, 0.2, 0.3, 0.5],
    "sae": [1.0, 2.0, 4.0, 8.0],
}
PROMPT_FRAMES = 200  # organism_tasks' continuation prompt (4 s)
CALIBRATE_AT = {"smitin": 25.0, "smitin-s5": 60.0}  # alpha the monitors are calibrated at (s = 2, s = 5)
BOUNDED_GRID = (0.5, 1.0, 1.5, 2.0)  # beta of the bounded edits when not calibrated
COLUMNS = ["method", "concept", "direction", "strength", "success", "validity", "collateral", "nll_increase",
           "key_kept", "tempo_kept", "steps_edited", "monitor_reached_tau", "verdict"]


def _r(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def _judge(concept: str):
    det = CONCEPT_DETECTORS[concept]
    return lambda codes: det.score(codes) > det.threshold


class Builder:
    """``build(concept, remove)`` for :func:`steering_matrix`: one store per concept, one SAE for all; with
    ``variants`` beyond plain, each method's precision variants (:mod:`matrix_variants`); with ``calibrate``,
    every steerer calibrated by the strength finder on held-out continuations."""

    def __init__(self, model, work: Path, sae_steps: int, log: dict[str, Any],
                 methods: tuple[str, ...] | list[str] = METHODS, variants: tuple[str, ...] = ("plain",),
                 calibrate: bool = False, sae_min_auc: float | None = None, cal_n: int = 16,
                 cal_task: str = "continuation", prompt_frames: int = PROMPT_FRAMES) -> None:
        self.model, self.work, self.log, self.methods = model, work, log, list(methods)
        self.variants, self.calibrate, self.sae_min_auc, self.cal_n = list(variants), calibrate, sae_min_auc, cal_n
        self.cal_task, self.prompt_frames = cal_task, prompt_frames
        self.fallback: dict[tuple[str, bool], dict[str, list[float]]] = {}
        self.stores: dict[str, Any] = {}
        if "sae" not in self.methods:
            return
        frames = mi.collect(model, mi.organism.balanced_set("drums", 128, seed=8), ["resid"], out=work / "sae_frames",
                            batch_size=32, progress=False)
        self.sae = mi.sae.train(frames, "resid", layer=model.n_layers - 1, arch="topk", dict_size=256, k=16,
                                steps=sae_steps, batch_size=512, out=work / "sae", seed=0, progress=False)
        self.sae_store = frames
        self.analysis = mi.sae.analyze(self.sae, frames, probes=False, progress=False)

    def store(self, concept: str):
        if concept not in self.stores:
            self.stores[concept] = mi.collect(self.model, mi.organism.balanced_set(concept, 256, seed=7), ["attn_z", "resid"],
                                              out=self.work / concept, frames="pooled", batch_size=32,
                                              progress=False)
        return self.stores[concept]

    def fit(self, concept: str, remove: bool, method: str, **fields: Any):
        """One method's steerer for ``concept`` with extra config ``fields`` (a variant's keep/edit; ``start=
        "onset"``: the steerer's spec starts at the world's onset step for the matrix's prompts; ``"settle"``:
        at the first one :data:`SETTLE_FRAMES` frames in)."""
        store = self.store(concept)
        last = [store.n_layers - 1]
        start = fields.pop("start", None)
        after = {"onset": 0, "settle": SETTLE_FRAMES}.get(start)
        spec = None if after is None else ApplySpec(start=self.model.world.onset_step(concept, self.prompt_frames,
                                                                                       after=after))
        if method == "iti":
            return mi.ITISteerer.fit(store, concept, mi.ITIConfig(k=8, remove=remove, **fields), spec=spec)
        if method in ("smitin", "smitin-s5"):
            cfg = mi.SMITINConfig(remove=remove, monitor_heads=8, interval=2 if method == "smitin" else 5, **fields)
            return mi.SMITINSteerer.fit(store, concept, cfg, spec=spec)
        if method == "diffmeans":
            return mi.DiffMeansSteerer.fit(store, concept, mi.DiffMeansConfig(remove=remove, layers=last, **fields),
                                           spec=spec)
        if method == "regression":
            return mi.RegressionSteerer.fit(store, concept, mi.RegressionConfig(remove=remove, layers=last,
                                                                                **fields), spec=spec)
        chosen = {"min_auc": self.sae_min_auc} if self.sae_min_auc is not None else {
            "features": [self.analysis.best(concept, 1)[0]]}
        return mi.SAESteerer.fit(self.sae_store, concept, mi.SAESteererConfig(sae=self.sae, remove=remove, **chosen,
                                                                              **fields), analysis=self.analysis,
                                 spec=spec)

    def __call__(self, concept: str, remove: bool) -> dict[str, Any]:
        info: dict[str, Any] = {}
        out = fit_variants(lambda method, **fields: self.fit(concept, remove, method, **fields), concept,
                           self.methods, self.variants, info)
        direction = "remove" if remove else "add"
        probes = next((out[k] for k in ("smitin", "smitin-s5") if k in out), None)
        if probes is not None:
            acc = probes.tensors["val_acc"].reshape(-1)
            monitored = acc.sort(descending=True).values[:len(probes.tensors["monitor_heads"])]
            info.update(best_head_acc=_r(float(acc.max())), monitor_head_acc=_r(float(monitored.mean())))
        if "sae" in out:
            feats = out["sae"].tensors["features"].tolist()
            info.update(sae_features=feats, sae_auc=[_r(float(self.analysis.auc[concept][f])) for f in feats])
        for name, steerer in out.items():
            if getattr(steerer.config, "keep", ()):
                info.setdefault("keep_cos_max", {})[name] = [
                    _r(float(steerer.tensors["keep_cos_before"].abs().max())),
                    _r(float(steerer.tensors["keep_cos_after"].abs().max()))]
        held_out = self.model.world.tasks(concept, n=16, seed=1, add=not remove)[0]
        for name, alpha in ((k, v) for k, v in CALIBRATE_AT.items() if k in out):
            try:
                cal = out[name].calibrate_monitor(self.model, judge=_judge(concept), strength=alpha,
                                                  decode_audio=False, **held_out.kwargs)
                info[f"{name}_tau"] = _r(cal.tau)
                info[f"{name}_calibration_bal_acc"] = _r(cal.balanced_accuracy)
            except ValueError as err:  # nothing to separate: the monitor keeps its validation tau
                info[f"{name}_tau"] = _r(float(out[name].config.tau))
                info[f"{name}_calibration_error"] = str(err)
        if self.calibrate:
            limits = Limits(max_collateral=0.10, min_validity=0.95)
            high = lambda name: max(sweeps_for(concept, not remove)[name.split("+")[0]])  # noqa: E731
            self.fallback[(concept, remove)], info["calibration"] = calibrate_all(self.model, out, concept, remove,
                                                                                  high, limits, self.cal_n,
                                                                                  self.cal_task)
            info["calibrated_on"] = self.cal_task
        self.log[f"{concept}/{direction}"] = info
        print(f"built {direction} {concept}: { {k: v for k, v in info.items() if k != 'calibration'} }", flush=True)
        return out


def sweeps_for(concept: str, add: bool, overrides: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Each method's grid, and each precision variant's (bounded edits: beta 0.5-2)."""
    overrides = overrides or {}
    base = {k: list(v) for k, v in (DEFAULT_SWEEPS if add else REMOVE_SWEEPS).items()}
    base |= {k: v for k, v in overrides.items() if "+" not in k}
    for method in METHODS:
        for variant, fields in VARIANTS.items():
            if variant != "plain":
                base[variant_name(method, variant)] = list(BOUNDED_GRID) if "edit" in fields else base[method]
    return base | {k: v for k, v in overrides.items() if "+" in k}  # a variant's own grid (iti+bounded=2.9)


def parse_sweeps(items: list[str]) -> dict[str, list[float]]:
    """``["smitin=5,7.5", "iti+bounded=2.9"]`` -> ``{"smitin": [5.0, 7.5], "iti+bounded": [2.9]}`` (a method's grid,
    or one variant's); the error names the bad item."""
    out = {}
    for item in items:
        name, _, values = item.partition("=")
        try:
            strengths = [float(v) for v in values.split(",") if v]
        except ValueError:
            strengths = []
        method, _, variant = name.partition("+")
        if method not in METHODS or (variant and variant not in VARIANTS) or not strengths:
            raise SystemExit(f"--sweep {item!r}: expected METHOD[+VARIANT]=S1,S2,... with METHOD one of "
                             f"{', '.join(METHODS)} and VARIANT one of {', '.join(v for v in VARIANTS if v != 'plain')}")
        out[name] = strengths
    return out


def monitor_stops(matrix: SteeringMatrix, method: str) -> dict[str, Any]:
    """At ``method``'s best continuation setting per cell: of the prompts whose goal the detector finds reached,
    how many the monitor read at or above tau after warm-up (where the schedule gives strength zero)."""
    reached_total = stopped_total = 0
    per_cell = {}
    for (concept, direction), comp in matrix.comparisons.items():
        best = next((r for r in comp.best("continuation") if r["method"] == method), None)
        if best is None or best.get("result") is None or best["result"].readings is None:
            continue
        res, pf = best["result"], PROMPT_FRAMES
        goal = _judge(concept)(res.codes[..., pf:]) ^ (direction == "remove")
        crossed = (res.readings[res.warmup:] >= res.tau).any(0)
        reached_total += int(goal.sum())
        stopped_total += int((goal & crossed).sum())
        per_cell[f"{concept}/{direction}"] = {"goal_reached": int(goal.sum()), "stopped": int((goal & crossed).sum()),
                                              "tau": _r(float(res.tau)),
                                              "final_reading": _r(float(res.readings[-1].mean()))}
    rate = stopped_total / reached_total if reached_total else None
    return {"rate": _r(rate), "goal_reached": reached_total, "stopped": stopped_total, "per_cell": per_cell}


def clap_cells(matrix: SteeringMatrix, model, clap, task: str = "continuation") -> dict[str, Any]:
    """Per continuation cell (each method's best setting): the detector's success and the CLAP judge's on the
    rendered audio of the same generations, and whether they agree within 10 points."""
    out = {}
    for (concept, direction), comp in matrix.comparisons.items():
        judge = next(j for j in model.world.clap_judges(clap) if j.concept == concept)
        for row in [r for r in comp.best(task) if r.get("result") is not None]:
            audio = np.asarray(model.codes_to_audio(row["result"].codes[..., PROMPT_FRAMES:]))
            rate = float(judge.decide(judge.score_audio(list(audio), model.sample_rate)).mean())
            clap_success = rate if direction == "add" else 1 - rate
            out[f"{row['method']}/{concept}/{direction}"] = {
                "detector_success": _r(row["success"]), "clap_success": _r(clap_success),
                "agree_10pt": abs(clap_success - row["success"]) <= 0.10}
    return out


def save_cell_codes(matrix: SteeringMatrix, folder: Path, task: str = "continuation") -> None:
    """Write each continuation cell's best-setting codes (``method`` -> int16 codes, prompt included) to
    ``folder/CONCEPT-DIRECTION.safetensors`` with the detector's success in its metadata, so a later judge
    (a retrained CLAP) can score the same generations without generating them again."""
    folder.mkdir(parents=True, exist_ok=True)
    for (concept, direction), comp in matrix.comparisons.items():
        rows = [r for r in comp.best(task) if r.get("result") is not None]
        tensors = {r["method"]: r["result"].codes.to(torch.int16).contiguous() for r in rows}
        meta = {"prompt_frames": str(PROMPT_FRAMES), "concept": concept, "direction": direction,
                "success": json.dumps({r["method"]: r["success"] for r in rows})}
        save_file(tensors, str(folder / f"{concept}-{direction}.safetensors"), metadata=meta)


def _cells(matrix: SteeringMatrix, task: str) -> dict:
    keys = ("success", "success_lo", "success_hi", "validity", "validity_lo", "validity_hi", "collateral",
            "collateral_lo", "collateral_hi",
            "nll_increase", "within_limits", "strength", "strength_from", "control_success", "beats_control",
            "verdict", "most_moved", "unmeasured")
    return {m: {c: {d: {k: _r(v) for k, v in cell.items() if k in keys} for d, cell in by_d.items()}
                for c, by_d in by_c.items()} for m, by_c in matrix.cells(task).items()}


def control_figures(matrix: SteeringMatrix, task: str) -> list[dict[str, Any]]:
    """Per cell: the weakest strength where the method reaches 90% success, its random-direction controls'
    success there, and the dose-response slopes (success per unit strength) of the method and its controls."""
    out = []
    for (concept, direction), comp in matrix.comparisons.items():
        for method in dict.fromkeys(r["method"] for r in comp.rows if r["task"] == task
                                    and control_of(r["method"]) is None):
            mine = sorted((r for r in comp.rows if r["task"] == task and r["method"] == method),
                          key=lambda r: r["strength"])
            reach = next((r for r in mine if r["success"] >= 0.9), None)
            ctl = [r for r in comp.rows if r["task"] == task and control_of(r["method"]) == method
                   and reach is not None and r["strength"] == reach["strength"]]
            slopes = [dose_response(comp, task, m)["slope"] for m in
                      dict.fromkeys(r["method"] for r in comp.rows if control_of(r["method"]) == method)]
            out.append({"method": method, "concept": concept, "direction": direction,
                        "reach_strength": None if reach is None else reach["strength"],
                        "control_success_at_reach": _r(sum(r["success"] for r in ctl) / len(ctl)) if ctl else None,
                        "slope": dose_response(comp, task, method), "control_slope": _r(
                            sum(slopes) / len(slopes)) if slopes else None})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--concepts", nargs="+", default=list(CONCEPTS), choices=CONCEPTS)
    ap.add_argument("--directions", nargs="+", default=["add", "remove"], choices=["add", "remove"])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS,
                    help="a subset of the organism's tasks (the targets are on continuation)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS,
                    help="a subset of the methods (the unsteered baseline always runs)")
    ap.add_argument("--sweep", nargs="+", default=[], metavar="METHOD=S1,S2,...",
                    help="replace a method's strengths (both directions), e.g. smitin=5,7.5 diffmeans=1,1.25")
    ap.add_argument("--sae-steps", type=int, default=1200)
    ap.add_argument("--controls", type=int, default=2, help="random-direction control draws per method (0: none)")
    ap.add_argument("--variants", nargs="+", default=["plain"], choices=list(VARIANTS),
                    help="precision variants per method (keep-set, bounded edit, both)")
    ap.add_argument("--calibrate", action="store_true",
                    help="every steerer at the strength the strength finder calibrates (not the grid)")
    ap.add_argument("--sae-min-auc", type=float, default=None,
                    help="SAE: steer the feature set with AUC >= this (default: the single best feature)")
    ap.add_argument("--cal-n", type=int, default=16, help="held-out prompts the strength finder uses")
    ap.add_argument("--calibrate-on", default="continuation", choices=TASKS,
                    help="the task whose held-out prompts (seed 1) the strength finder uses")
    ap.add_argument("--clap", default=None, help="also score each continuation cell with this CLAP (e.g. organism)")
    ap.add_argument("--partial", default=None, help="write the pairs done so far to this JSON file after each pair")
    ap.add_argument("--save-codes", default=None, metavar="DIR",
                    help="save each continuation cell's best-setting codes here (to re-judge them later)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (two runs of disjoint pairs can share cores)")
    args = ap.parse_args()
    overrides = parse_sweeps(args.sweep)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    work = Path(tempfile.mkdtemp(prefix="mi-matrix-"))
    log: dict[str, Any] = {}
    # the onset variants' start counts from the prompt of the tasks run: 200 frames, none from text alone
    build = Builder(model, work, args.sae_steps, log, args.methods, tuple(args.variants), args.calibrate,
                    args.sae_min_auc, args.cal_n, args.calibrate_on,
                    PROMPT_FRAMES if "continuation" in args.tasks else 0)
    clap = mi.judges.load_clap(args.clap) if args.clap else None
    done: dict[str, Any] = {}
    print(f"methods ready after {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    names = args.tasks

    def pick_tasks(concept: str, add: bool) -> list:
        return [t for t in model.world.tasks(concept, n=args.n, add=add) if t.name in names]

    matrix = SteeringMatrix()
    for concept in args.concepts:  # one pair at a time: each pair's cells are printed as soon as it ends
        for direction in args.directions:
            one = steering_matrix(model, build, [concept], [direction], n=args.n,
                                  sweeps=lambda c, add: sweeps_for(c, add, overrides) | build.fallback.get(
                                      (c, not add), {}), keep_results=True,
                                  tasks=pick_tasks, controls=args.controls, calibrated=args.calibrate)
            matrix.comparisons.update(one.comparisons)
            matrix.seconds.update(one.seconds)
            pair = {"pair": f"{concept}/{direction}", "minutes": round(one.seconds[(concept, direction)] / 60, 1),
                    "cells": {t: _cells(one, t) for t in one.tasks}, "verdicts": {
                        t: one.verdict_counts(t) for t in one.tasks},
                    "controls": {t: control_figures(one, t) for t in one.tasks},
                    "smitin_monitor": monitor_stops(one, "smitin"),
                    "smitin_s5_monitor": monitor_stops(one, "smitin-s5"), "build": log.get(f"{concept}/{direction}"),
                    "clap": clap_cells(one, model, clap) if clap is not None else None}
            print("pair " + json.dumps(pair), flush=True)
            if args.save_codes:
                save_cell_codes(one, Path(args.save_codes))
            done[pair["pair"]] = pair
            if args.partial:
                Path(args.partial).write_text(json.dumps({"args": vars(args), "pairs": done}, indent=1))
    print(repr(matrix))
    tasks = matrix.tasks
    for task in tasks:
        print(f"\n### {task}\n")
        base = [{"method": "unsteered", "concept": c, "direction": d, **row}
                for c, by in matrix.unsteered(task).items() for d, row in by.items()]
        print(markdown_table(base + matrix.best_rows(task), COLUMNS))
        why = matrix.explain(task)
        print(f"\n{task}: each failing cell's best setting and the bars it misses, then the weakest setting "
              "reaching 90% (else the most successful) and what it misses (floor = a re-sampled unsteered run)\n")
        print(markdown_table(why[~why["passes"]].to_dict("records"),
                             ["method", "concept", "direction", "strength", "limits", "reach_strength",
                              "reach_success", "reach_limits", "reach_most_moved"]))
    stops = monitor_stops(matrix, "smitin")
    stops_s5 = monitor_stops(matrix, "smitin-s5")
    head = "continuation" if "continuation" in tasks else tasks[0]
    s5 = [r for r in matrix.best_rows(head) if r["method"] == "smitin-s5"]
    figures = {
        "n": args.n, "concepts": args.concepts, "directions": args.directions,
        "ran": [f"{c}/{d}" for c, d in matrix.comparisons],
        "unsteered": {c: {d: _r(row["success"]) for d, row in by.items()}
                      for c, by in matrix.unsteered(head).items()},
        "unsteered_validity": {c: {d: [_r(row.get(k)) for k in ("validity", "validity_lo", "validity_hi")]
                                   for d, row in by.items()} for c, by in matrix.unsteered(head).items()},
        "explain": {t: [{k: _r(v) for k, v in row.items()} for row in matrix.explain(t).to_dict("records")]
                    for t in tasks},
        "collateral_floor": {t: {c: {d: _r(v) for d, v in by.items()} for c, by in matrix.collateral_floor(t).items()}
                             for t in tasks},
        "build": log,
        "smitin_monitor": stops, "smitin_s5_monitor": stops_s5,
        "other_tasks": {t: _cells(matrix, t) for t in tasks if t != "continuation"},
        "other_tasks_passing": {t: matrix.cells_passing(t) for t in tasks if t != "continuation"},
        "minutes_per_cell": {f"{c}/{d}": round(s / 60, 1) for (c, d), s in matrix.seconds.items()},
        "task": head, "cells": _cells(matrix, head),
        "cells_passing": matrix.cells_passing(head),
        "cells_total": matrix.cells_total(head),
        **{f"cells_{v}": k for v, k in matrix.verdict_counts(head).items()},
        "verdicts": {t: matrix.verdict_counts(t) for t in tasks},
        "n_for_halfwidth_5pt": {t: {f"{c}/{d}": comp.floor[t].get("n_for_halfwidth_5pt")
                                    for (c, d), comp in matrix.comparisons.items() if t in comp.floor}
                                for t in tasks},
        "controls": {t: control_figures(matrix, t) for t in tasks},
        "smitin_monitor_stop_rate": stops["rate"],
        "smitin_s5_success": _r(sum(r["success"] if r["within_limits"] else 0.0 for r in s5) / max(len(s5), 1)),
        "minutes": round((time.perf_counter() - t0) / 60, 1),
    }
    print_json(figures)


if __name__ == "__main__":
    main()
