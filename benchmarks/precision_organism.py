"""Precision steering on the organism: ramps against broken sustains, bounded edits, keep-sets, the strength finder.

ITI adds drums to continuations of clips without drums (n prompts). For each setting: the drums rate,
validity, the largest change of another concept's rate (collateral) and, from ``grammar_report`` on
growing prefixes, the generated steps at which the broken sustains start. The last line is JSON.

    python benchmarks/precision_organism.py [--n 32] [--frames 100]
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
from musicinterp.compare.intervals import Limits  # noqa: E402
from musicinterp.organism.concept_sets import balanced_set  # noqa: E402
from musicinterp.organism.detectors import detect_all, grammar_report, world_validity  # noqa: E402
from musicinterp.steering import ITIConfig, ITISteerer, Ramp, calibration_task, steer  # noqa: E402

SUSTAINS = ("lead_sustain", "bass_sustain")


def sustain_onsets(codes: torch.Tensor, prompt_frames: int) -> torch.Tensor:
    """Per generated step, how many broken sustains start there (summed over clips; the prompt is context)."""
    counts = [sum(grammar_report(codes[..., : prompt_frames + t + 1], prompt_frames)[k] for k in SUSTAINS)
              for t in range(codes.shape[-1] - prompt_frames)]
    total = torch.stack(counts)  # (T, B) cumulative
    return torch.cat([total[:1], total[1:] - total[:-1]]).sum(1)


def measure(model, steerer, task, base_rates, **kw) -> dict:
    res = steer(model, steerer, seed=0, decode_audio=False, row_keys=list(range(task.n)), **task.kwargs, **kw)
    gen = res.codes[..., task.prompt_frames:]
    rates = {c: float(v.float().mean()) for c, v in detect_all(gen).items()}
    onsets = sustain_onsets(res.codes, task.prompt_frames)
    first = onsets[: len(onsets) // 4].sum() / onsets.sum().clamp_min(1)
    return {"drums": rates["drums"], "validity": float(world_validity(res.codes, task.prompt_frames).float().mean()),
            "collateral": max(abs(rates[c] - base_rates[c]) for c in rates if c != "drums"),
            "broken_sustains": int(onsets.sum()), "share_in_first_quarter": round(float(first), 3),
            "first_steps": onsets[:8].tolist()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=5.0)
    args = ap.parse_args()
    t0 = time.time()
    model = load_model("organism")
    with tempfile.TemporaryDirectory() as tmp:
        store = collect(model, balanced_set("drums", 128, seed=7), ["attn_z"], out=Path(tmp) / "s",
                        frames="pooled", batch_size=32, progress=False)
        iti = ITISteerer.fit(store, "drums", ITIConfig(k=8))
        kept = ITISteerer.fit(store, "drums", ITIConfig(k=8, keep=("bass", "tempo")))
        bounded = ITISteerer.fit(store, "drums", ITIConfig(k=8, edit="bounded"))
        task = calibration_task(model, "drums", n=args.n, prompt_frames=100, new_frames=args.frames, seed=0)
        base = steer(model, [], seed=0, decode_audio=False, row_keys=list(range(task.n)), **task.kwargs).codes
        base_rates = {c: float(v.float().mean()) for c, v in detect_all(base[..., task.prompt_frames:]).items()}
        out: dict = {"n": args.n, "frames": args.frames, "alpha": args.alpha, "unsteered": base_rates}
        out["constant"] = measure(model, iti, task, base_rates, strength=args.alpha)
        for steps in (10, 25):
            out[f"ramp{steps}"] = measure(model, iti, task, base_rates, strength=args.alpha, schedule=Ramp(steps=steps))
        out["keep_bass_tempo"] = measure(model, kept, task, base_rates, strength=args.alpha)
        out["keep_cos_max_before"] = float(kept.tensors["keep_cos_before"].abs().max())
        out["keep_cos_max_after"] = float(kept.tensors["keep_cos_after"].abs().max())
        for beta in (0.5, 1.0, 2.0):
            out[f"bounded{beta}"] = measure(model, bounded, task, base_rates, strength=beta)
        cal_task = calibration_task(model, "drums", n=8, prompt_frames=100, new_frames=args.frames, seed=7)
        found = iti.calibrate(model, cal_task, "drums", target=0.9, limits=Limits(max_collateral=0.25,
                                                                                  min_validity=0.5),
                              high=10.0, rounds=3, points=3)
        out["calibrated"] = {"chosen": found.chosen, "rounds": found.rounds, "reason": found.reason,
                             "points": [(round(p.strength, 3), p.success, round(p.collateral, 3), p.validity,
                                         p.most_moved) for p in found.points]}
    out["seconds"] = round(time.time() - t0, 1)
    for k, v in out.items():
        print(k, v)
    print_json(out)


if __name__ == "__main__":
    main()
