"""Every method cell of the steering matrix, decided on all the saved evidence: one row per (task, method, pair).

The variant surveys (n = 64, every variant at its calibrated strength) and the larger runs of single cells
(n = 192-2048, the same first prompts and sampling keys) are read together from ``benchmarks/results``. For each
setting (method, variant, strength) the run with the most prompts decides; a cell then

- **passes** when some setting passes (every interval clear of its limit, its control beaten);
- is **undecided** when some setting is inside every limit at its point values and none passes: the line says
  how many prompts would decide it if the point values held (:func:`musicinterp.compare.intervals.n_to_decide`);
- **fails** otherwise, shown by the setting nearest the limits (the least summed shortfall), with the bar it
  misses most and by how much, and the mechanism behind it (:data:`MECHANISMS`, the evidence in
  docs/precision.md).

    python benchmarks/matrix_ledger.py                # every steering_matrix*.json under benchmarks/results
    python benchmarks/matrix_ledger.py A.json B.json  # or the given runs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402
from matrix_variants import _split  # noqa: E402  (a cell name "method+variant" -> (method, variant))

from musicinterp.compare.intervals import Limits, n_to_decide  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LIMITS = Limits()
TASKS = ("continuation", "text", "text-opposite")
# why a cell misses, keyed by (bar, detail); the evidence for each is a paragraph of docs/precision.md
MECHANISMS = {
    ("success", "tempo"): "tempo is not reached within the grammar: the lead always sounds, so there is no rest "
                          "to start faster notes in; the pushes that reach tempo break the lead's notes, the others "
                          "stop short",
    ("success", "opposite"): "the model has played a bar of what the text asked for; an edit at the "
                             "continuation's strength no longer turns it, a stronger one breaks notes",
    ("success", "top"): "not reached at the top of the searched strengths",
    ("success", "text"): "from text alone not reached within the limits, at the continuation's strength nor at the "
                         "one calibrated on held-out text prompts",
    ("success", "other"): "the strength that reaches 90% breaks a limit on the calibration prompts; the setting "
                          "nearest the limits stops short of the concept",
    ("validity", "bass-add"): "the bass opens on a sustain or changes note mid-bar: a start on the grid spares the "
                              "first note, not the later ones",
    ("validity", "other"): "the push changes notes mid-note (a sustain of another pitch)",
    ("collateral", "dynamics"): "the lead's loudness moves: the push puts in notes louder than the prompt's "
                                "loudness gives, and in the world every voice's velocity follows one loudness, so "
                                "the lead's follows (benchmarks/dynamics_coupling.py)",
    ("collateral", "mode"): "mode is read from the bass's roots: the judge decides only clips with a bass, so its "
                            "rate moves on few clips",
    ("collateral", "continuity"): "the continuation leaves the prompt's key or tempo (the continuity judges)",
    ("collateral", "text"): "from text alone the push moves what the text left open (tempo, loudness, the other "
                            "voices)",
    ("collateral", "other"): "another planted concept moves with the steered one",
}


def _survey_rows(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    task = data.get("task", "continuation")
    return [{**r, "task": task, "n": data["n"], "source": source} for r in data["rows"]]


def _rerun_rows(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    task = data.get("task", "continuation")
    rows = []
    for name, by_c in data["cells"].items():
        method, variant = _split(name)
        for concept, by_d in by_c.items():
            for direction, cell in by_d.items():
                rows.append({**cell, "method": method, "variant": variant, "concept": concept,
                             "direction": direction, "task": task, "n": data["n"], "source": source})
    return rows


def load_rows(paths: list[Path]) -> list[dict[str, Any]]:
    """Every evaluated setting in the given saved runs (survey ``rows`` or a run's ``cells``), with its n."""
    rows = []
    for path in paths:
        data = json.loads(path.read_text())
        if "rows" in data:
            rows += _survey_rows(data, path.stem)
        elif "cells" in data:
            rows += _rerun_rows(data, path.stem)
        else:
            raise SystemExit(f"{path}: neither 'rows' nor 'cells': not a steering matrix result")
    return rows


def decisive(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per setting (task, method, variant, pair, strength to 3 significant figures), its run with the most prompts."""
    best: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["task"], r["method"], r["variant"], r["concept"], r["direction"], f"{r['strength']:.3g}")
        if key not in best or r["n"] > best[key]["n"]:
            best[key] = r
    return list(best.values())


def collateral_by_n(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Settings run at two sizes on the same first prompts: the collateral at the smallest n and at the largest.
    The collateral is the largest of several judges' moves, so at small n it is biased up by their noise."""
    by: dict[tuple, list] = {}
    for r in rows:
        key = (r["task"], r["method"], r["variant"], r["concept"], r["direction"], f"{r['strength']:.3g}")
        by.setdefault(key, []).append(r)
    out = []
    for (task, method, variant, concept, direction, _), rs in sorted(by.items()):
        small, large = min(rs, key=lambda r: r["n"]), max(rs, key=lambda r: r["n"])
        if large["n"] > small["n"]:
            out.append({"task": task, "cell": f"{method}+{variant} {concept}/{direction}", "n_small": small["n"],
                        "collateral_small": small["collateral"], "n_large": large["n"],
                        "collateral_large": large["collateral"]})
    return out


def shortfalls(r: dict[str, Any]) -> dict[str, float]:
    """How far each point value lies outside its limit (0 inside)."""
    validity = 1.0 if r.get("validity") is None else r["validity"]
    return {"success": max(0.0, LIMITS.min_success - r["success"]),
            "validity": max(0.0, LIMITS.min_validity - validity),
            "collateral": max(0.0, r["collateral"] - LIMITS.max_collateral)}


def mechanism(r: dict[str, Any], bar: str) -> str:
    """The key of :data:`MECHANISMS` for a setting that misses ``bar``."""
    if bar == "success":
        detail = ("tempo" if r["concept"] == "tempo" else "opposite" if r["task"] == "text-opposite"
                  else "text" if r["task"] != "continuation"
                  else "top" if str(r.get("strength_from")).startswith("not reached") else "other")
    elif bar == "validity":
        detail = "bass-add" if (r["concept"], r["direction"]) == ("bass", "add") else "other"
    else:
        moved = (r.get("most_moved") or "").removeprefix("rate_").removeprefix("organism:")
        detail = ("text" if r["task"] != "continuation" else "dynamics" if moved == "dynamics"
                  else "mode" if moved == "mode" else "continuity" if moved.endswith("_kept") else "other")
    return f"{bar}/{detail}"


FIELDS = ("success", "success_lo", "success_hi", "validity", "validity_lo", "validity_hi", "collateral",
          "collateral_lo", "collateral_hi", "most_moved", "control_success")


def decide(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One cell's status and the setting that shows it (rows: the cell's decisive settings)."""
    passing = [r for r in rows if r["verdict"] == "pass"]
    if passing:
        return {"status": "pass", "row": max(passing, key=lambda r: (r["n"], -sum(shortfalls(r).values())))}
    inside = [r for r in rows if not any(shortfalls(r).values())]
    if inside:
        row = max(inside, key=lambda r: r["n"])
        return {"status": "undecided", "row": row, "n_to_decide": n_to_decide(row, LIMITS)}
    row = min(rows, key=lambda r: (round(sum(shortfalls(r).values()), 4), -r["n"]))
    miss = shortfalls(row)
    bar = max(miss, key=miss.get)
    return {"status": row["verdict"] if row["verdict"] == "undecided" else "fail", "row": row, "bar": bar,
            "by": miss[bar], "mechanism": mechanism(row, bar)}


def ledger(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``{task: [cell, ...]}``: every (method, pair) seen in the rows, decided on its decisive settings; each cell
    flat: its status, the deciding setting's variant, strength, n, source run and figures, and for a cell that does
    not pass the bar it misses most (``by`` how much, ``mechanism``) or the prompts that would decide it."""
    cells: dict[tuple, list] = {}
    for r in decisive(rows):
        cells.setdefault((r["task"], r["method"], f"{r['concept']}/{r['direction']}"), []).append(r)
    out: dict[str, list[dict[str, Any]]] = {}
    for (task, method, pair), rs in sorted(cells.items()):
        got = decide(rs)
        row = got.pop("row")
        out.setdefault(task, []).append({"method": method, "pair": pair, "settings": len(rs), **got,
                                         **{k: row[k] for k in ("variant", "strength", "n", "source")},
                                         **{k: row.get(k) for k in FIELDS}})
    return out


def _ci(c: dict[str, Any], key: str, pct: bool = False) -> str:
    if c.get(key) is None:
        return "n/a"
    f = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.3f}")  # noqa: E731
    return f"{f(c[key])} [{f(c[key + '_lo'])}, {f(c[key + '_hi'])}]"


def why(cell: dict[str, Any]) -> str:
    """The cell's line: where it passed, what would decide it, or the bar it misses, by how much and why."""
    if cell["status"] == "pass":
        return f"passes at n = {cell['n']}"
    if "bar" not in cell:
        need = cell["n_to_decide"]
        return "inside every limit at its point values; " + (
            f"about {need} prompts would decide it if they held" if need else "a point value sits on its limit")
    by = f"{cell['by']:.3f}" if cell["bar"] == "validity" else f"{cell['by'] * 100:.1f} points"
    side = "over" if cell["bar"] == "collateral" else "short"
    return f"{cell['bar']} {side} by {by}: {MECHANISMS[tuple(cell['mechanism'].split('/'))]}"


def markdown(cells: list[dict[str, Any]]) -> str:
    """One task's cells as a markdown table, each with its intervals, control and line of why."""
    lines = ["| method | pair | status | setting (n) | success | validity | collateral (most moved) | control | why |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        moved = (c.get("most_moved") or "").removeprefix("rate_").removeprefix("organism:")
        control = "n/a" if c.get("control_success") is None else f"{c['control_success']:.0%}"
        lines.append(f"| {c['method']} | {c['pair']} | {c['status']} | {c['variant']} {c['strength']:.3g} ({c['n']}) "
                     f"| {_ci(c, 'success', True)} | {_ci(c, 'validity')} | {_ci(c, 'collateral')} ({moved}) "
                     f"| {control} | {why(c)} |")
    return "\n".join(lines)


def summary(led: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per task: cells passing, undecided and failing, and how many fail by each mechanism."""
    out = {}
    for task, cells in led.items():
        status = [c["status"] for c in cells]
        mech: dict[str, int] = {}
        for c in cells:
            if "mechanism" in c:
                mech[c["mechanism"]] = mech.get(c["mechanism"], 0) + 1
        out[task] = {"cells": len(cells), "pass": status.count("pass"), "undecided": status.count("undecided"),
                     "fail": status.count("fail"), "mechanisms": dict(sorted(mech.items(), key=lambda kv: -kv[1]))}
    return out


def ordered(led: dict[str, Any]) -> list[str]:
    return [t for t in TASKS if t in led] + [t for t in led if t not in TASKS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="*", type=Path, help="saved steering_matrix results (default: all in benchmarks/results)")
    args = ap.parse_args()
    paths = args.runs or sorted(RESULTS.glob("steering_matrix*.json"))
    rows = load_rows(paths)
    led = ledger(rows)
    for task in ordered(led):
        print(f"\n### {task}\n\n{markdown(led[task])}")
    print_json({"sources": [p.stem for p in paths], "limits": vars(LIMITS), "summary": summary(led),
                "mechanisms": {"/".join(k): v for k, v in MECHANISMS.items()},
                "collateral_by_n": collateral_by_n(rows), "cells": led})


if __name__ == "__main__":
    main()
