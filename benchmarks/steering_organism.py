"""Ground truth on the organism: every steering method swept on the same prompts, seeds and lengths.

Tasks (DESIGN 7b, issue 6 item 4): adding drums in continuation (a 4 s clip without drums continued
for 4 s) and in text-to-music (prompts that say nothing of drums; prompts that say "no drums");
removing drums from drum clips; and adding bass. Head methods run under both frame policies
(pooled mean and last valid frame). The last line is JSON with each method at its best setting on
the headline task (adding drums in continuation) plus every task's best table.

    python benchmarks/steering_organism.py [--n 32] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.collect import collect  # noqa: E402
from musicinterp.compare.run import run_comparison  # noqa: E402
from musicinterp.demo.run import build_steerers  # noqa: E402
from musicinterp.organism.concept_sets import balanced_set  # noqa: E402
from musicinterp.views.steering import markdown_table  # noqa: E402

KEYS = ("strength", "success", "validity", "nll_increase", "collateral", "key_kept", "tempo_kept",
        "steps_edited", "monitor_reached_tau", "within_limits")


def _clean(row: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k in KEYS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--quick", action="store_true", help="headline task only")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    model = load_model("organism")
    work = Path(tempfile.mkdtemp(prefix="mi-steer-"))
    experiments = [("drums", True)] if args.quick else [("drums", True), ("drums", False), ("bass", True)]
    results = {}
    for target, add in experiments:
        store = collect(model, balanced_set(target, 256, seed=7), ["attn_z", "resid"], out=work / target,
                        frames="pooled", overwrite=True, batch_size=32, progress=False)
        comp = run_comparison(model, build_steerers(store, target, remove=not add), target, add=add, n=args.n)
        name = f"{'add' if add else 'remove'}_{target}"
        results[name] = comp
        for task in comp.unsteered:
            rows = [comp.unsteered[task]] + comp.best(task)
            print(f"\n{name} / {task}")
            print(markdown_table(rows))
    head = results["add_drums"]
    best = {r["method"]: _clean(r) for r in head.best("continuation")}
    figures = {
        "task": "add drums, continuation (4 s prompt without drums, 4 s continued)", "n": args.n,
        "methods": {m: best[m] for m in ("smitin", "iti", "diffmeans", "regression")},
        "last_frame_policy": {m: best[m] for m in ("smitin-last", "iti-last")},
        "smitin_interval_5": best["smitin-s5"],
        "unsteered": _clean(head.unsteered["continuation"]),
        "all_tasks": {name: {task: {r["method"]: _clean(r) for r in comp.best(task)}
                             for task in comp.unsteered} for name, comp in results.items()},
        "minutes": round((time.perf_counter() - t0) / 60, 1),
    }
    print_json(figures)


if __name__ == "__main__":
    main()
