"""A CLAP judge against the exact detectors on the steering matrix's own generations, re-judged from saved codes.

``benchmarks/steering_matrix.py --save-codes DIR`` writes each continuation cell's best-setting codes (prompt
included) with the detector's success. This script renders the continuations (the frames after the prompt),
scores them with the CLAP judge of the cell's concept, and reports, per cell, the CLAP's success beside the
detector's and whether they agree within 10 points; then per pair and overall. Re-judging the same codes lets a
retrained CLAP be compared with the one the matrix ran with, on identical audio. Agreement is also split by
the cell's validity (continuations read with their prompt): cells where the grammar breaks are where the
audio and the tokens part most (a sustain no onset started sounds as a held tone with no attack, which the
detectors count as the voice sounding but not as a note starting). On tempo, clip by clip: how many of the
clips where CLAP and the detector disagree have a lead onset rate between the world's two tempi (above the
99th percentile of slow world clips, below the 1st of fast ones), where the detector's threshold (3.6 onsets
per second) decides a rate no world clip has. Beside the zero-shot CLAP (threshold 0, as shipped), the same
CLAP with each concept's threshold calibrated as a user would on labelled audio: on ``--calibration`` held-out
clips with voices rewritten (the CLAP benchmark's kind of clip, other seeds), labelled by the detectors.

    python benchmarks/clap_matrix.py DIR [DIR ...] [--clap organism]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402
from clap_organism import perturbed_heldout  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.organism import vocab as V  # noqa: E402
from musicinterp.organism.clap_data import ATTRIBUTES, HELDOUT_SEED0, world_clips  # noqa: E402
from musicinterp.organism.detectors import CONCEPT_DETECTORS, lead_onset_rate  # noqa: E402
from musicinterp.organism.renderer import render  # noqa: E402

TEMPO_THRESHOLD = CONCEPT_DETECTORS["tempo"].threshold
CALIBRATION_SEED0 = HELDOUT_SEED0 + 700_000  # rewritten clips no other benchmark uses
TEMPO_TALLY = ("agree", "agree_between", "disagree", "disagree_between")  # tempo clip counts
VALID_CELL = 0.9  # a cell whose continuations obey the grammar at least this often counts as valid


def tempo_band(n: int = 400) -> tuple[float, float]:
    """Lead onset rates between the world's tempi: the 99th percentile of slow world clips, the 1st of fast."""
    clips = world_clips(range(HELDOUT_SEED0, HELDOUT_SEED0 + n), 200)
    rate = lead_onset_rate(torch.stack([c.codes for c in clips])).numpy()
    fast = np.array([c.latents.tempo for c in clips]) == 1
    return float(np.percentile(rate[~fast], 99)), float(np.percentile(rate[fast], 1))


def calibrated_judges(world, clap, n: int) -> dict[str, Any]:
    """Each planted concept's CLAP judge with its threshold calibrated on ``n`` rewritten held-out clips."""
    codes, labels = perturbed_heldout(n, CALIBRATION_SEED0)
    audio = render(codes)
    judges = {}
    for judge in world.clap_judges(clap):
        judge.calibrate(list(audio), labels[:, ATTRIBUTES.index(judge.concept)] == 1, V.SAMPLE_RATE)
        judges[judge.concept] = judge
    return judges


def judge_pair(path: Path, world, model, clap, band: tuple[float, float], calibrated: dict[str, Any]
               ) -> tuple[str, dict[str, dict], dict[str, int]]:
    """One saved pair's name (``concept/direction``); per method, detector success, CLAP success (zero-shot and
    with ``calibrated``'s threshold) and whether each agrees within 10 points; on tempo, clip counts of agreement
    and disagreement, in and out of ``band``."""
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        codes = {k: f.get_tensor(k).long() for k in f.keys()}
    concept, direction, start = meta["concept"], meta["direction"], int(meta["prompt_frames"])
    detector = json.loads(meta["success"])
    judge = next(j for j in world.clap_judges(clap) if j.concept == concept)
    out, clips = {}, dict.fromkeys(TEMPO_TALLY, 0)
    for method, c in codes.items():
        audio = np.asarray(model.codes_to_audio(c[..., start:]))
        scores = judge.score_audio(list(audio), model.sample_rate)
        heard = judge.decide(scores).astype(bool)
        rate = float(heard.mean())
        cal = calibrated.get(concept)
        cal_rate = float(cal.decide(scores).mean()) if cal is not None else None
        if concept == "tempo":
            onsets = lead_onset_rate(c[..., start:]).numpy()
            between = (onsets > band[0]) & (onsets < band[1])
            same = heard == (onsets > TEMPO_THRESHOLD)
            for key, m in (("agree", same), ("disagree", ~same)):
                clips[key] += int(m.sum())
                clips[f"{key}_between"] += int((m & between).sum())
        clap_success = rate if direction == "add" else 1 - rate
        out[method] = {"detector_success": round(detector[method], 4), "clap_success": round(clap_success, 4),
                       "agree_10pt": abs(clap_success - detector[method]) <= 0.10,
                       "validity": round(float(world.validity(c, start).float().mean()), 4)}
        if cal_rate is not None:
            cal_success = cal_rate if direction == "add" else 1 - cal_rate
            out[method] |= {"clap_success_calibrated": round(cal_success, 4),
                            "agree_10pt_calibrated": abs(cal_success - detector[method]) <= 0.10}
    return f"{concept}/{direction}", out, clips


def calibrated_figures(cells: dict[str, dict], calibrated: dict[str, Any], n: int) -> dict[str, Any]:
    """The calibrated CLAP's agreement overall and its thresholds (empty without calibration)."""
    if not calibrated:
        return {}
    agree = sum(c["agree_10pt_calibrated"] for c in cells.values())
    return {"calibration_clips": n, "thresholds": {k: round(float(j.threshold), 5) for k, j in calibrated.items()},
            "within_10pt_calibrated": agree, "share_calibrated": round(agree / len(cells), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("folders", nargs="+", help="--save-codes folders of steering matrix runs")
    ap.add_argument("--clap", default="organism")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calibration", type=int, default=512,
                    help="rewritten held-out clips to calibrate each CLAP threshold on (0: zero-shot only)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    clap = mi.judges.load_clap(args.clap)
    files = sorted(p for folder in args.folders for p in Path(folder).glob("*.safetensors"))
    if not files:
        raise SystemExit(f"no saved cells (*.safetensors) in {', '.join(args.folders)}")
    cells: dict[str, dict] = {}
    band = tempo_band()
    calibrated = calibrated_judges(model.world, clap, args.calibration) if args.calibration else {}
    tempo_clips = dict.fromkeys(TEMPO_TALLY, 0)
    for path in files:
        pair, one, clips = judge_pair(path, model.world, model, clap, band, calibrated)
        tempo_clips = {k: tempo_clips[k] + clips[k] for k in tempo_clips}
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
                "broken_cells_within_10pt": agree - sum(c["agree_10pt"] for c in valid),
                "tempo_band": [round(b, 3) for b in band], "tempo_clips": tempo_clips,
                **calibrated_figures(cells, calibrated, args.calibration), "cells": cells,
                "seconds": round(time.perf_counter() - t0, 1)})


if __name__ == "__main__":
    main()
