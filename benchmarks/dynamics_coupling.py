"""Why adding drums moves the lead's loudness: the added hits come louder than the prompt's loudness, and the lead follows.

In the organism's world every voice's velocity comes from one loudness (lead ``dynamics + {-1, 0, 1}``, drums
``dynamics + accent + {0, 1}``, bass ``(dynamics + 1) // 2``), and the dynamics judge reads the lead's onsets
alone. This benchmark continues clips without drums unsteered and steered toward drums (same prompts, same
sampling keys) and reads, clip by clip, the lead's mean onset velocity and the added drum hits' mean velocity:
if the lead's loudness moves with the drums the push put in, the lead's change tracks how much louder the
drums came than the prompt's loudness gives (drum velocity expected about lead velocity + 0.75).

    python benchmarks/dynamics_coupling.py --n 64 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.compare.intervals import wilson  # noqa: E402
from musicinterp.organism import vocab as V  # noqa: E402
from musicinterp.organism.judges import LOUD_THRESHOLD, DynamicsJudge  # noqa: E402

DRUM_ACCENT_MEAN = 0.75  # the world's drum velocity above its loudness: accent every fourth hit + {0, 1}


def lead_velocity(codes: torch.Tensor) -> np.ndarray:
    """Per clip, the mean velocity of the lead's onsets: the organism's dynamics judge's own score."""
    return DynamicsJudge().score_codes(codes)


def drum_velocity(codes: torch.Tensor) -> np.ndarray:
    """Per clip, the mean velocity of the drum hits (NaN without one)."""
    out = []
    for row in codes[:, V.DRUMS].tolist():
        vel = [V.drum_parts(x)[1] for x in row if 1 <= x < V.DRUM_MAX]
        out.append(float(np.mean(vel)) if vel else np.nan)
    return np.array(out)


def _rate(x: np.ndarray) -> list[float]:
    return [round(v, 4) for v in wilson(x)]


def coupling(base: torch.Tensor, steered: torch.Tensor, prompt_frames: int) -> dict[str, object]:
    """Loudness and velocity figures of steered against unsteered continuations of the same prompts."""
    ul, sl = lead_velocity(base[..., prompt_frames:]), lead_velocity(steered[..., prompt_frames:])
    sd = drum_velocity(steered[..., prompt_frames:])
    ok = ~np.isnan(ul) & ~np.isnan(sl) & ~np.isnan(sd)
    gap = sd[ok] - (ul[ok] + DRUM_ACCENT_MEAN)  # how much louder the added drums came than the prompt gives
    lead_change = sl[ok] - ul[ok]
    loud_u = np.where(np.isnan(ul), np.nan, ul > LOUD_THRESHOLD)
    loud_s = np.where(np.isnan(sl), np.nan, sl > LOUD_THRESHOLD)
    flipped = (loud_u != loud_s)[ok]
    return {"clips": int(ok.sum()), "loud_unsteered": _rate(loud_u), "loud_steered": _rate(loud_s),
            "lead_velocity_unsteered": round(float(np.nanmean(ul)), 4),
            "lead_velocity_steered": round(float(np.nanmean(sl)), 4),
            "drum_velocity_steered": round(float(np.nanmean(sd)), 4),
            "drum_velocity_expected": round(float(np.nanmean(ul) + DRUM_ACCENT_MEAN), 4),
            "corr_lead_change_drum_gap": round(float(np.corrcoef(lead_change, gap)[0, 1]), 4),
            "corr_steered_lead_drums": round(float(np.corrcoef(sl[ok], sd[ok])[0, 1]), 4),
            "judge_flipped": int(flipped.sum()),
            "drum_gap_flipped": round(float(gap[flipped].mean()), 4) if flipped.any() else None,
            "drum_gap_kept": round(float(gap[~flipped].mean()), 4) if (~flipped).any() else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64, help="continuations of clips without drums")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    store = mi.collect(model, mi.organism.balanced_set("drums", 256, seed=7), ["attn_z", "resid"],
                       out=Path(tempfile.mkdtemp()) / "store", frames="pooled", progress=False)
    last = [model.n_layers - 1]
    # the store and strengths of the matrix's plain drums/add cells (steering_matrix_variants)
    steerers = {"iti": (mi.ITISteerer.fit(store, "drums", mi.ITIConfig(k=8)), 3.3333),
                "diffmeans": (mi.DiffMeansSteerer.fit(store, "drums", mi.DiffMeansConfig(layers=last)), 3.0)}
    task = model.world.tasks("drums", n=args.n)[0]  # the matrix's continuation task (200 + 200 frames)
    base = mi.generate(model, seed=0, decode_audio=False, **task.kwargs).codes
    out = {}
    for name, (steerer, strength) in steerers.items():
        steered = mi.steer(model, steerer, strength=strength, seed=0, decode_audio=False, **task.kwargs).codes
        out[name] = {"strength": strength, **coupling(base, steered, 200)}
        print(name, out[name], flush=True)
    print_json({"n": args.n, "prompt_frames": 200, "new_frames": 200, "methods": out,
                "minutes": round((time.perf_counter() - t0) / 60, 1)})


if __name__ == "__main__":
    main()
