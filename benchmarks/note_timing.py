"""When does steering break the organism's notes? Adding bass: strength against validity, every step or every k.

Adding bass to continuations of clips without it breaks the world's grammar with sustains that no onset
started (``grammar_report``'s ``bass_sustain``). This measures, for ITI (k = 8) and difference-in-means (last
layer), at a weak and a strong strength, steering at every step and only at every 4th, 8th or 16th step (an
edit that leaves the steps between alone, so that what it starts can continue unsteered; the organism's bass
notes last 16 or 32 frames):
the bass rate, validity, and how many clips carry each kind of violation. 16 continuations of 100 frames
after 100-frame prompts. Then the onset-aligned start: steering every step from
``model.world.onset_step("bass", 100)`` on (the step whose bass token falls on the world's bar grid, where a
bass note may begin), and from one and two steps either side of it; edits that act only on that grid (from the
onset step, every 16 or every 32 steps: the bass token of each pushed step falls where a note of either tempo
may start, and the steps between are left alone to sustain it), and a kick (only the onset step, or it and the
next); and every step from step 0 with the strength ramped in (``Ramp(steps=10, 25, 50)``). The last line is JSON.

    python benchmarks/note_timing.py [--n 16]
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
from musicinterp.organism.detectors import detect_all, grammar_report, world_validity  # noqa: E402
from musicinterp.steering import ApplySpec, Ramp, calibration_task, steer  # noqa: E402

SETTINGS = {"iti": (2.0, 4.0), "diffmeans": (0.75, 1.5)}
EVERY = (None, 4, 8, 16)
OFFSETS = (-2, -1, 0, 1, 2)  # steps from the onset-aligned start
RAMPS = (10, 25, 50)  # Ramp(steps=...): strength raised linearly from 0 over the first steps
GRID = {"grid every 16": {"every": 16}, "grid every 32": {"every": 32}, "kick 1 step": {"stop": 1},
        "kick 2 steps": {"stop": 2}}  # edits from the onset step (``stop`` counted from it)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    with tempfile.TemporaryDirectory() as tmp:
        store = mi.collect(model, mi.organism.balanced_set("bass", 128, seed=7), ["attn_z", "resid"],
                           out=Path(tmp) / "s", frames="pooled", batch_size=32, progress=False)
        steerers = {"iti": mi.ITISteerer.fit(store, "bass", mi.ITIConfig(k=8)),
                    "diffmeans": mi.DiffMeansSteerer.fit(store, "bass", mi.DiffMeansConfig(layers=[3]))}
    task = calibration_task(model, "bass", n=args.n, prompt_frames=100, new_frames=100, seed=0)
    rows = []

    def measure(name: str, strength: float, spec: ApplySpec | None, schedule=None, **fields) -> None:
        res = steer(model, steerers[name], strength=strength, spec=spec, schedule=schedule, seed=0,
                    decode_audio=False, row_keys=list(range(task.n)), **task.kwargs)
        gen = res.codes[..., task.prompt_frames:]
        report = grammar_report(res.codes, task.prompt_frames)  # the prompt is context
        kinds = {k: int((v > 0).sum()) for k, v in report.items() if int((v > 0).sum())}
        rows.append({"method": name, "strength": strength, **fields,
                     "bass": round(float(detect_all(gen)["bass"].float().mean()), 4),
                     "validity": round(float(world_validity(res.codes, task.prompt_frames).float().mean()), 4),
                     "clips_with_violation": kinds})
        print(rows[-1], flush=True)

    onset = model.world.onset_step("bass", task.prompt_frames)
    for name, strengths in SETTINGS.items():
        for strength in strengths:
            for every in EVERY:
                measure(name, strength, ApplySpec(every=every) if every else None, every=every or 1)
            for ramp in RAMPS:
                measure(name, strength, None, schedule=Ramp(steps=ramp), every=1, ramp=ramp)
            for off in OFFSETS:
                measure(name, strength, ApplySpec(start=onset + off), every=1, start=onset + off,
                        from_onset_step=off)
            for label, grid in GRID.items():
                spec = ApplySpec(start=onset, every=grid.get("every"),
                                 stop=onset + grid["stop"] if "stop" in grid else None)
                measure(name, strength, spec, every=grid.get("every", 1), start=onset, grid=label)
    print_json({"n": args.n, "onset_step": onset, "rows": rows, "seconds": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
