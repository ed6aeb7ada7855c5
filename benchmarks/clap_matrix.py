"""A CLAP judge against the exact detectors on the steering matrix's own generations, re-judged from saved codes.

``benchmarks/steering_matrix.py --save-codes DIR`` writes each continuation cell's best-setting codes (prompt
included) with the detector's success. This script renders the continuations (the frames after the prompt),
scores them with the CLAP judge of the cell's concept, and reports, per cell, the CLAP's success beside the
detector's and whether they agree within 10 points; then per pair and overall. Re-judging the same codes lets a
retrained CLAP be compared with the one the matrix ran with, on identical audio. Agreement is also split by
the cell's validity (continuations read with their prompt): cells where the grammar breaks are where the
audio and the tokens part most (a sustain no onset started sounds as a held tone with no attack, which the
detectors count as the voice sounding but not as a note starting).

    python benchmarks/clap_matrix.py DIR [DIR ...] [--clap organism]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402

VALID_CELL = 0.9  # a cell whose continuations obey the grammar at least this often counts as valid


def judge_pair(path: Path, world, model, clap) -> tuple[str, dict[str, dict]]:
    """One saved pair's name (``concept/direction``) and, per method, detector success, CLAP success and
    whether they agree within 10 points."""
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        codes = {k: f.get_tensor(k).long() for k in f.keys()}
    concept, direction, start = meta["concept"], meta["direction"], int(meta["prompt_frames"])
    detector = json.loads(meta["success"])
    judge = next(j for j in world.clap_judges(clap) if j.concept == concept)
    out = {}
    for method, c in codes.items():
        audio = np.asarray(model.codes_to_audio(c[..., start:]))
        rate = float(judge.decide(judge.score_audio(list(audio), model.sample_rate)).mean())
        clap_success = rate if direction == "add" else 1 - rate
        out[method] = {"detector_success": round(detector[method], 4), "clap_success": round(clap_success, 4),
                       "agree_10pt": abs(clap_success - detector[method]) <= 0.10,
                       "validity": round(float(world.validity(c, start).float().mean()), 4)}
    return f"{concept}/{direction}", out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folders", nargs="+", help="--save-codes folders of steering matrix runs")
    ap.add_argument("--clap", default="organism")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    clap = mi.judges.load_clap(args.clap)
    files = sorted(p for folder in args.folders for p in Path(folder).glob("*.safetensors"))
    if not files:
        raise SystemExit(f"no saved cells (*.safetensors) in {', '.join(args.folders)}")
    cells: dict[str, dict] = {}
    for path in files:
        pair, one = judge_pair(path, model.world, model, clap)
        cells.update({f"{m}/{pair}": c for m, c in one.items()})
        print(pair, {m: (c["detector_success"], c["clap_success"]) for m, c in one.items()}, flush=True)
    pairs: dict[str, dict[str, int]] = {}
    for key, c in cells.items():
        tally = pairs.setdefault(key.split("/", 1)[1], {"agree": 0, "cells": 0})
        tally["agree"] += int(c["agree_10pt"])
        tally["cells"] += 1
    agree = sum(c["agree_10pt"] for c in cells.values())
    valid = [c for c in cells.values() if c["validity"] >= VALID_CELL]
    print_json({"clap": args.clap, "within_10pt": agree, "cells_total": len(cells),
                "share": round(agree / len(cells), 4), "pairs": pairs,
                "valid_cells": len(valid), "valid_cells_within_10pt": sum(c["agree_10pt"] for c in valid),
                "broken_cells": len(cells) - len(valid),
                "broken_cells_within_10pt": agree - sum(c["agree_10pt"] for c in valid), "cells": cells,
                "seconds": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
