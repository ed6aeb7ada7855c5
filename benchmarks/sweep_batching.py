"""A strength sweep as rows of one generation vs one generation per setting, on the organism.

4 strengths x 4 methods (ITI, SMITIN, difference-in-means, regression), n = 16 continuations of 200 frames,
side by side in one run: ``run_comparison(batched=False)`` (one generation of 16 rows per setting) against
``run_comparison(batched=True)`` (each method's 4 settings as 64 rows of one generation). Sampling is paired
(noise keyed per prompt), so the sampled codes should be the same both ways; a greedy pass checks it too.

    python benchmarks/sweep_batching.py [--n 16] [--frames 200]
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

import musicinterp as mi  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    model = mi.load_model("organism")
    store = mi.collect(model, mi.organism.balanced_set("drums", 96, seed=7), ["attn_z", "resid"],
                       out=Path(tempfile.mkdtemp()) / "s", frames="pooled", batch_size=32, progress=False)
    last = [model.n_layers - 1]
    steerers = {"iti": mi.ITISteerer.fit(store, "drums", mi.ITIConfig(k=8)),
                "smitin": mi.SMITINSteerer.fit(store, "drums", mi.SMITINConfig(monitor_heads=8, interval=2)),
                "diffmeans": mi.DiffMeansSteerer.fit(store, "drums", mi.DiffMeansConfig(layers=last)),
                "regression": mi.RegressionSteerer.fit(store, "drums", mi.RegressionConfig(layers=last))}
    sweeps = {"iti": [1.0, 2.0, 5.0, 10.0], "smitin": [10.0, 15.0, 20.0, 25.0], "diffmeans": [1.5, 2.0, 2.5, 3.0],
              "regression": [0.05, 0.1, 0.15, 0.2]}
    task = model.world.tasks("drums", n=args.n, new_frames=args.frames)[0]  # continuation
    kw = dict(tasks=[task], sweeps=sweeps, progress=False, keep_results=True)
    times = {}
    results = {}
    for mode in ("loop", "batched"):
        t0 = time.perf_counter()
        results[mode] = mi.run_comparison(model, steerers, "drums", batched=mode == "batched", **kw)
        times[mode] = time.perf_counter() - t0
    success = {mode: {f"{r['method']}@{r['strength']}": r["success"] for r in comp.rows}
               for mode, comp in results.items()}
    max_success_gap = max(abs(success["loop"][k] - success["batched"][k]) for k in success["loop"])
    sampled_identical = all(torch.equal(a["result"].codes, b["result"].codes)  # paired sampling: keyed per prompt
                            for a, b in zip(results["loop"].rows, results["batched"].rows, strict=True))
    greedy = mi.Task("greedy", {**task.kwargs, "do_sample": False, "n_frames": 50}, task.prompt_frames)
    gkw = dict(tasks=[greedy], sweeps=sweeps, progress=False, keep_results=True)
    g_loop = mi.run_comparison(model, steerers, "drums", batched=False, **gkw)
    g_batch = mi.run_comparison(model, steerers, "drums", batched=True, **gkw)
    identical = all(torch.equal(a["result"].codes, b["result"].codes)
                    for a, b in zip(g_loop.rows, g_batch.rows, strict=True))
    print(f"loop {times['loop']:.1f} s, batched {times['batched']:.1f} s; sampled success gap {max_success_gap:.3f}")
    print_json({"n": args.n, "frames": args.frames, "settings": 16, "loop_s": round(times["loop"], 2),
                "batched_s": round(times["batched"], 2), "speedup": round(times["loop"] / times["batched"], 2),
                "greedy_identical": identical, "sampled_identical": sampled_identical,
                "max_sampled_success_gap": round(max_success_gap, 3),
                "target_speedup": 3.0})


if __name__ == "__main__":
    main()
