"""Do the audio judges agree with the organism's exact detectors on rendered organism audio?

For each planted concept, N rendered world clips (pairs that differ only in that
concept, so each set is balanced) are judged by the librosa judge and by the
exact detector. The judge's threshold is calibrated on the first half of the
pairs; agreement is measured on the disjoint second half (``agreement``), and
also with the shipped default threshold (``agreement_default``).

    python benchmarks/judges_agreement.py [--n 256] [--seconds 4] [--seed 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp.judges import audio_judges  # noqa: E402
from musicinterp.organism import validate_audio_judges  # noqa: E402
from musicinterp.organism.vocab import FRAME_RATE  # noqa: E402

TARGET = 0.90


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=256, help="rendered clips per concept (even)")
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    ap.add_argument("--seed", type=int, default=2, help="world seed (the shipped thresholds came from seed 1)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    report = validate_audio_judges(audio_judges(), n_per_concept=args.n, n_frames=int(args.seconds * FRAME_RATE),
                                   seed=args.seed, progress=False)
    rows = report.concepts
    for c, a in rows.items():
        print(f"{c:7s} {a.judge:18s} held-out agreement {a.agreement:.3f} (default threshold "
              f"{a.default_threshold:.4g}: {a.agreement_default:.3f}); calibrated threshold {a.threshold:.4g}; "
              f"{a.seconds_per_clip * 1e3:.0f} ms per clip")
    print_json({
        "agreement": {c: round(a.agreement, 4) for c, a in rows.items()},
        "agreement_default": {c: round(a.agreement_default, 4) for c, a in rows.items()},
        "balanced_accuracy": {c: round(a.balanced_accuracy, 4) for c, a in rows.items()},
        "threshold": {c: round(a.threshold, 5) for c, a in rows.items()},
        "default_threshold": {c: a.default_threshold for c, a in rows.items()},
        "judge_ms_per_clip": {c: round(a.seconds_per_clip * 1e3, 1) for c, a in rows.items()},
        "render_ms_per_clip": round(report.render_seconds_per_clip * 1e3, 1),
        "n_per_concept": args.n, "n_calibration": {c: a.n_calibration for c, a in rows.items()},
        "n_heldout": {c: a.n_heldout for c, a in rows.items()}, "seconds_per_clip_audio": args.seconds,
        "seed": args.seed, "target": TARGET, "all_pass": all(a.agreement >= TARGET for a in rows.values()),
        "minutes": round((time.perf_counter() - t0) / 60, 2),
    })


if __name__ == "__main__":
    main()
