"""README tables from one or more ``steering_matrix.py`` runs (their JSON last lines, saved to files).

Runs on the same prompts and seeds (sampling is paired, so the unsteered rows
are the same in every run) merge cell by cell: a cell's best setting over the
union of the runs' grids is the better of the runs' best settings, by the rule
of ``Comparison.best`` (within the limits first, then success, then the smaller
NLL increase). Prints one markdown table per concept (add and remove side by
side) for each task, and the JSON last line with the merged ``cells``,
``cells_passing`` and ``cells_total`` per task.

    python benchmarks/steering_matrix.py --tasks continuation | tail -1 > main.json
    python benchmarks/steering_matrix.py ... --methods smitin --sweep smitin=5,7.5 | tail -1 > finer.json
    python benchmarks/matrix_tables.py main.json finer.json

Runs made before the comparison measured collateral floors can take them from a
cheap run that only re-samples the baselines (``--floors``): the floors are the
same in every run.

    python benchmarks/steering_matrix.py --methods diffmeans --sweep diffmeans=0 | tail -1 > floors.json
    python benchmarks/matrix_tables.py main.json finer.json --floors floors.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp.compare.matrix import missed_bars  # noqa: E402

LABELS = {"iti": "ITI", "smitin": "SMITIN, s = 2", "smitin-s5": "SMITIN, s = 5", "diffmeans": "difference-in-means",
          "regression": "regression probe", "sae": "SAE feature"}
STRENGTH = {"iti": "alpha", "smitin": "alpha", "smitin-s5": "alpha", "diffmeans": "lambda", "regression": "s",
            "sae": "alpha"}


def load(path: str) -> dict[str, Any]:
    """The JSON object on the last non-empty line of ``path``; the error names the file."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip().startswith("{")]
    if not lines:
        raise SystemExit(f"{path}: no JSON line (save the last line of a steering_matrix.py run)")
    data = json.loads(lines[-1])
    if "cells" not in data:
        raise SystemExit(f"{path}: field 'cells' is missing: not a steering_matrix.py result")
    return data


def task_cells(run: dict[str, Any]) -> dict[str, dict]:
    """``{task: cells}`` of one run (its head task and the other tasks)."""
    return {run.get("task", "continuation"): run["cells"], **run.get("other_tasks", {})}


def better(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    if a is None:
        return b
    key = lambda c: (bool(c["within_limits"]), c["success"], -c["nll_increase"])  # noqa: E731
    return b if key(b) > key(a) else a


def merge(runs: list[dict[str, Any]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for run in runs:
        for task, cells in task_cells(run).items():
            for method, by_c in cells.items():
                for concept, by_d in by_c.items():
                    for direction, cell in by_d.items():
                        slot = out.setdefault(task, {}).setdefault(method, {}).setdefault(concept, {})
                        slot[direction] = better(slot.get(direction), cell)
    return out


def passes(cell: dict[str, Any]) -> bool:
    return bool(cell["within_limits"]) and cell["success"] >= 0.9


def failing(cells: dict[str, dict], floor: dict[str, dict] | None) -> str:
    """One line per failing cell: the bars its best setting misses, with the collateral floor."""
    lines = []
    for method, by_c in cells.items():
        for concept, by_d in by_c.items():
            for direction, cell in by_d.items():
                if not passes(cell):
                    f = (floor or {}).get(concept, {}).get(direction)
                    lines.append(f"- {LABELS.get(method, method)}, {direction} {concept} "
                                 f"({STRENGTH.get(method, 'strength')} {cell['strength']:g}): {missed_bars(cell, f)}")
    return "\n".join(lines)


def fmt(method: str, cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "not run"
    text = (f"{cell['success']:.0%} / {cell['validity']:.2f} / {cell['collateral']:.2f} / "
            f"{cell['nll_increase']:.2f} ({STRENGTH.get(method, 'strength')} {cell['strength']:g}), "
            f"{'in' if cell['within_limits'] else 'out'}")
    return f"**{text}**" if passes(cell) else text


def floors(runs: list[dict[str, Any]]) -> dict[str, dict]:
    """``{task: {concept: {direction: floor}}}`` from the first run that measured each (paired sampling makes
    the re-sampled baseline the same in every run)."""
    out: dict[str, dict] = {}
    for run in runs:
        for task, by_c in run.get("collateral_floor", {}).items():
            for concept, by_d in by_c.items():
                for direction, value in by_d.items():
                    out.setdefault(task, {}).setdefault(concept, {}).setdefault(direction, value)
    return out


def tables(cells: dict[str, dict], floor: dict[str, dict] | None = None) -> str:
    methods = list(cells)
    concepts = list(dict.fromkeys(c for by_c in cells.values() for c in by_c))
    parts = []
    for concept in concepts:
        head = (f"| method | add {concept}: success / validity / collateral / NLL+ (strength) | "
                f"remove {concept}: the same |\n|---|---|---|")
        rows = [f"| {LABELS.get(m, m)} | {fmt(m, cells[m].get(concept, {}).get('add'))} | "
                f"{fmt(m, cells[m].get(concept, {}).get('remove'))} |" for m in methods]
        if floor and concept in floor:
            got = [floor[concept].get(d) for d in ("add", "remove")]
            rows.append("| collateral floor (unsteered, other noise) | "
                        + " | ".join("not run" if v is None else f"{v:.2f}" for v in got) + " |")
        parts.append("\n".join([head, *rows]))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="files holding a steering_matrix.py JSON last line")
    ap.add_argument("--floors", nargs="+", default=[], metavar="FILE",
                    help="runs to take only the collateral floors from (e.g. one with --sweep diffmeans=0)")
    args = ap.parse_args()
    runs = [load(p) for p in args.runs]
    merged, floor = merge(runs), floors(runs + [load(p) for p in args.floors])
    summary = {}
    for task, cells in merged.items():
        flat = [c for by_c in cells.values() for by_d in by_c.values() for c in by_d.values()]
        summary[task] = {"cells_passing": sum(map(passes, flat)), "cells_total": len(flat)}
        print(f"\n### {task}: {summary[task]['cells_passing']} of {summary[task]['cells_total']} cells pass\n")
        print(tables(cells, floor.get(task)))
        print(f"\n{task}: what each failing cell misses\n")
        print(failing(cells, floor.get(task)))
    print_json({"runs": args.runs, "summary": summary, "cells": merged, "collateral_floor": floor})


if __name__ == "__main__":
    main()
