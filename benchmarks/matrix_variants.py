"""Precision variants for the steering matrix, each at the strength the strength finder calibrates.

Per method, four variants of the same fitted direction(s):

- ``plain``: the method as published (a fixed multiple of sigma or of the direction);
- ``keep``: the directions projected off the other planted concepts' and the nuisances' (dynamics, mode)
  directions, fitted from the same store (``keep=[...]``);
- ``bounded``: the affine edit toward the class level (``edit="bounded"``, strength = beta);
- ``both``: keep-set and bounded edit together.

Every variant is calibrated on held-out continuations (seed 1, ``CAL_N`` prompts) with
``steerer.calibrate(target=0.9)`` against the matrix's limits; the comparison then runs each at its calibrated
strength (``mi.compare(calibrated=True)``). Where the finder chose none (at 16 prompts validity >= 0.95 allows
no broken clip), the strength that reached the target nearest the limits on the calibration prompts is used
anyway (the limits are judged on the evaluation prompts), and where none reached it, the top of the search;
``calibration`` records which.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from musicinterp.compare.intervals import Limits, wilson
from musicinterp.compare.matrix import missed_bars
from musicinterp.steering.configs import SteererConfigError

VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {}, "keep": {"keep": True}, "bounded": {"edit": "bounded"}, "both": {"keep": True, "edit": "bounded"},
    "onset": {"start": "onset"},  # steering from the world's onset step on (World.onset_step): notes open on the grid
    "settle": {"start": "settle"},  # from the first grid step a bar in (onset_step(after=SETTLE_FRAMES)): from
                                    # text alone the model settles what the text left open, then the edit starts
    "keep-loudness": {"keep": ("dynamics",)},  # keep only what the plain pushes move most: the lead's loudness
}                                              # (benchmarks/dynamics_coupling.py), not every other concept
KEEP_LABELS = ("drums", "tempo", "timbre", "bass", "dynamics", "mode")  # what the organism's stores label
BOUNDED_HIGH = 4.0  # top of the bounded edit's search (beta = 1 lands on the class level)
CAL_N, CAL_SEED, CAL_ROUNDS, CAL_POINTS = 16, 1, 2, 3
SETTLE_FRAMES = 32  # the "settle" variant's unsteered lead-in: one bar of the organism's grid


def variant_name(method: str, variant: str) -> str:
    return method if variant == "plain" else f"{method}+{variant}"


def variant_fields(concept: str, variant: str) -> dict[str, Any]:
    """Config fields of ``variant`` for a steerer of ``concept``."""
    fields = dict(VARIANTS[variant])
    if fields.get("keep") is True:
        fields["keep"] = tuple(c for c in KEEP_LABELS if c != concept)
    return fields


def fit_variants(fit, concept: str, methods: list[str], variants: list[str], log: dict[str, Any]) -> dict[str, Any]:
    """``fit(method, **fields)`` for every method and variant; a variant a method cannot take is logged and
    skipped (e.g. SAE removal has no keep-set)."""
    out = {}
    for method in methods:
        for variant in variants:
            try:
                out[variant_name(method, variant)] = fit(method, **variant_fields(concept, variant))
            except SteererConfigError as err:
                log.setdefault("skipped", {})[variant_name(method, variant)] = str(err)
    return out


def calibrate_all(model, steerers: dict[str, Any], concept: str, remove: bool, high_for, limits: Limits,
                  n: int = CAL_N, task_name: str = "continuation") -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Calibrate every steerer on ``n`` held-out prompts of the task ``task_name`` (another seed than the
    evaluation's); returns the strength to evaluate each at (for the ones the finder chose none for) and, per
    steerer, what the finder found."""
    task = next(t for t in model.world.tasks(concept, n=n, seed=CAL_SEED, add=not remove) if t.name == task_name)
    fallback, report = {}, {}
    for name, steerer in steerers.items():
        bounded = getattr(steerer.config, "edit", "add") == "bounded"
        high = BOUNDED_HIGH if bounded else high_for(name)
        found = steerer.calibrate(model, task, concept, target=0.9, limits=limits, high=high,
                                  rounds=CAL_ROUNDS, points=CAL_POINTS)
        reached = [p for p in found.points if p.success >= 0.9]
        nearest = min(reached, key=lambda p: (round(_excess(p, limits), 6), p.strength)) if reached else None
        used = found.chosen if found.chosen is not None else nearest.strength if nearest else high
        if found.chosen is None:
            fallback[name] = [used]
        best = next((p for p in found.points if p.strength == used), None)
        report[name] = {"chosen": found.chosen, "reason": found.reason, "high": high, "used": used,
                        "used_from": ("calibrated above the weakest" if found.reason.startswith("found above")
                                      else "calibrated") if found.chosen is not None
                        else "nearest the limits on calibration" if reached else "not reached: top",
                        "cal_success": None if best is None else best.success,
                        "cal_collateral": None if best is None else round(best.collateral, 4),
                        "cal_most_moved": None if best is None else best.most_moved,
                        "points": [(round(p.strength, 4), p.success, round(p.collateral, 3), p.validity,
                                    p.most_moved) for p in found.points]}
        print(f"calibrated {name}: {report[name]['used_from']} {report[name]['used']:.4g} ({found.reason})",
              flush=True)
    return fallback, report


def _excess(point: Any, limits: Limits) -> float:
    """How far a calibration point lies outside the limits (0 inside): validity short plus collateral over."""
    validity = 1.0 if point.validity is None else point.validity
    return max(0.0, limits.min_validity - validity) + max(0.0, point.collateral - limits.max_collateral)


def _split(name: str) -> tuple[str, str]:
    method, _, variant = name.partition("+")
    return method, variant or "plain"


def _cell_rows(pairs: dict[str, Any], task: str) -> list[dict[str, Any]]:
    rows = []
    for pair_name, pair in pairs.items():
        concept, direction = pair_name.split("/")
        cal = (pair.get("build") or {}).get("calibration", {})
        ctl = {r["method"]: r.get("control_success_at_reach") for r in pair["controls"].get(task, [])}
        clap = pair.get("clap") or {}
        for name, by_c in pair["cells"].get(task, {}).items():
            cell = by_c[concept][direction]
            method, variant = _split(name)
            c = cal.get(name, {})
            row = {"method": method, "variant": variant, "concept": concept, "direction": direction,
                   "strength": cell["strength"], "strength_from": c.get("used_from"),
                   "cal_success": c.get("cal_success"), "cal_most_moved": c.get("cal_most_moved"),
                   "control_success": cell.get("control_success", ctl.get(name)),
                   "clap_success": (clap.get(f"{name}/{concept}/{direction}") or {}).get("clap_success")}
            row.update({k: cell.get(k) for k in ("success", "success_lo", "success_hi", "validity", "validity_lo",
                                                  "validity_hi", "collateral", "collateral_lo", "collateral_hi",
                                                  "verdict", "most_moved")})
            rows.append(row)
    return rows


def monitor_summary(pairs: dict[str, Any]) -> dict[str, Any]:
    """The calibrated SMITIN monitor at SMITIN's evaluated strength, per pair: of the continuations whose goal the
    detector finds reached, how many the monitor read past tau (so its strength fell to zero), with its tau and
    the balanced accuracy of its calibration (or why it could not be calibrated)."""
    per_pair, reached, stopped = {}, 0, 0
    for name, pair in pairs.items():
        cell = (pair.get("smitin_monitor") or {}).get("per_cell", {}).get(name)
        build = pair.get("build") or {}
        if cell is None:
            continue
        reached, stopped = reached + cell["goal_reached"], stopped + cell["stopped"]
        per_pair[name] = {**cell, "calibration_bal_acc": build.get("smitin_calibration_bal_acc"),
                          "calibration_error": build.get("smitin_calibration_error")}
    return {"goal_reached": reached, "stopped": stopped, "per_pair": per_pair}


def summarize(run: dict[str, Any], task: str = "continuation") -> dict[str, Any]:
    """The figures of a variants run (``--partial`` file: the pairs done so far) on one of its tasks: verdicts
    per variant, each cell, the keep-set's effect where plain fails on collateral, the strength finder's
    held-out check and CLAP's agreement with the detectors."""
    pairs, args = run["pairs"], run.get("args", {})
    rows = _cell_rows(pairs, task)
    by_variant: dict[str, dict[str, int]] = {}
    for r in rows:
        r["point_pass"] = bool(r["success"] is not None and r["success"] >= 0.9 and r["validity"] >= 0.95
                               and r["collateral"] <= 0.10)
        counts = by_variant.setdefault(r["variant"], {"pass": 0, "fail": 0, "undecided": 0, "cells": 0,
                                                      "point_pass": 0})
        counts[r["verdict"]] += 1
        counts["cells"] += 1
        counts["point_pass"] += r["point_pass"]
    n = args.get("n") or 0
    keyed = {(r["method"], r["variant"], r["concept"], r["direction"]): r for r in rows}
    any_pass = {(r["method"], r["concept"], r["direction"]) for r in rows if r["verdict"] == "pass"}
    keep_effect, settle_effect = variant_effect(keyed, "keep"), variant_effect(keyed, "settle")
    loudness_effect = variant_effect(keyed, "keep-loudness")
    for r in rows:  # the bars each cell misses at its point values (the verdict reads the intervals)
        r["misses"] = missed_bars(r) if r["success"] is not None else ""
    checked = [r for r in rows if r["cal_success"] is not None and r["cal_success"] >= 0.9]
    clap = [r for r in rows if r["clap_success"] is not None]
    passing = [r for r in rows if r["verdict"] == "pass"]
    return {
        "task": task, "n": args.get("n"), "cal_n": args.get("cal_n") if args.get("calibrate") else None,
        "controls": args.get("controls"),
        "pairs": list(pairs), "methods": sorted({r["method"] for r in rows}),
        "by_variant": by_variant, "cells_pass_any_variant": len(any_pass),
        "cells_point_pass_any_variant": len({(r["method"], r["concept"], r["direction"]) for r in rows
                                             if r["point_pass"]}),
        # the best a verdict can see at this n: every clip valid gives this Wilson lower bound (limit 0.95)
        "validity_lo_all_valid": round(wilson(np.ones(n))[1], 4) if n else None,
        "cells_total_any_variant": len({(r["method"], r["concept"], r["direction"]) for r in rows}),
        "passing_beat_control": sum(1 for r in passing if (r["control_success"] or 0.0) <= 0.10),
        "passing": len(passing),
        "keep_effect": keep_effect,
        "keep_halves": sum(k["halved_at_equal_success"] for k in keep_effect),
        "settle_effect": settle_effect,
        "settle_halves": sum(k["halved_at_equal_success"] for k in settle_effect),
        "keep-loudness_effect": loudness_effect,
        "keep-loudness_halves": sum(k["halved_at_equal_success"] for k in loudness_effect),
        "calibration_check": {"cells": len(checked), "reach_0.85": sum(r["success"] >= 0.85 for r in checked)},
        "clap_agreement": {"cells": len(clap), "within_10pt": sum(
            abs(r["clap_success"] - r["success"]) <= 0.10 for r in clap)},
        "keep_cos_max": {p: (pair.get("build") or {}).get("keep_cos_max") for p, pair in pairs.items()},
        "sae_features": {p: (pair.get("build") or {}).get("sae_features") for p, pair in pairs.items()},
        "smitin_monitor": monitor_summary(pairs),
        "minutes": {p: pair["minutes"] for p, pair in pairs.items()},
        "rows": rows,
    }


def variant_effect(keyed: dict[tuple, dict[str, Any]], variant: str) -> list[dict[str, Any]]:
    """Per cell whose plain variant's collateral is over 10 points: ``variant``'s success and collateral beside
    the plain one's, and whether it at least halves the collateral at equal success (within 5 points)."""
    out = []
    for (method, name, concept, direction), plain in keyed.items():
        other = keyed.get((method, variant, concept, direction))
        if name != "plain" or other is None or plain["collateral"] is None or plain["collateral"] <= 0.10:
            continue
        out.append({"method": method, "pair": f"{concept}/{direction}", "plain_success": plain["success"],
                    "plain_collateral": plain["collateral"], f"{variant}_success": other["success"],
                    f"{variant}_collateral": other["collateral"],
                    "halved_at_equal_success": other["collateral"] <= plain["collateral"] / 2
                    and plain["success"] >= 0.9 and other["success"] >= plain["success"] - 0.05})
    return out


def _merge_pair(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One pair from two runs of it with different variants: cells, controls, CLAP and calibration united
    (``b`` wins a method both ran); the SMITIN monitor from the run that has it."""
    out = dict(a)
    out["cells"] = {t: {**a["cells"].get(t, {}), **cells} for t, cells in b["cells"].items()}
    out["controls"] = {}
    for t in set(a["controls"]) | set(b["controls"]):
        mine = {r["method"]: r for r in a["controls"].get(t, [])} | {r["method"]: r for r in b["controls"].get(t, [])}
        out["controls"][t] = list(mine.values())
    out["clap"] = {**(a.get("clap") or {}), **(b.get("clap") or {})} or None
    build_a, build_b = a.get("build") or {}, b.get("build") or {}
    out["build"] = {**build_a, **build_b, "calibration": {**build_a.get("calibration", {}),
                                                          **build_b.get("calibration", {})}}
    if not (a.get("smitin_monitor") or {}).get("per_cell"):
        out["smitin_monitor"] = b.get("smitin_monitor")
    out["minutes"] = round(a["minutes"] + b["minutes"], 1)
    return out


def merge_partials(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run from several ``--partial`` files of the same settings; a pair two files both ran (with different
    variants, e.g. a later run of one new variant) has its cells united, the later file winning a method."""
    fixed = ("n", "cal_n", "controls", "calibrate", "sae_min_auc")
    for run in runs[1:]:
        differ = [k for k in fixed if run["args"].get(k) != runs[0]["args"].get(k)]
        if differ:
            raise SystemExit(f"partial runs differ in {differ}: merge only runs of the same settings")
    pairs: dict[str, Any] = {}
    for run in runs:
        for name, pair in run["pairs"].items():
            pairs[name] = _merge_pair(pairs[name], pair) if name in pairs else pair
    variants = list(dict.fromkeys(v for run in runs for v in run["args"].get("variants", [])))
    return {"args": {**runs[0]["args"], "variants": variants}, "pairs": pairs}


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Summarize one or more --partial files of steering_matrix.py")
    ap.add_argument("partials", nargs="+", help="--partial JSON files (disjoint pairs, same settings)")
    ap.add_argument("--task", default="continuation", choices=("continuation", "text", "text-opposite"),
                    help="the task whose cells to summarize (the runs must have run it)")
    ap.add_argument("--command", default=None, help="how they were produced, saved as _command")
    args = ap.parse_args()
    summary = summarize(merge_partials([json.loads(open(f).read()) for f in args.partials]), args.task)
    if args.command:
        summary["_command"] = args.command
    print(json.dumps(summary))
