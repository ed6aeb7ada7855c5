"""A full layer x head patching sweep: cells as rows of one forward pass vs one trace per cell.

``random-small`` (24 layers x 16 heads = 384 cells), 4 s of codes (200 frames), a batch of 2 clean/corrupt
pairs (two prompts on the same codes, teacher-forced on the conditional rows), site ``attn_z``, denoising,
KL to the clean run per codebook. Both engines run in the same process on the same inputs; ``max_abs_diff``
compares every cell's per-codebook value. ``--loop-cells N`` times the loop on N evenly spread cells only
and extrapolates ``loop_s`` (flagged in the JSON); the default runs every cell both ways.

    python benchmarks/patch_sweep.py [--model random-small] [--seconds 4] [--pairs 2] [--max-rows 32]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json, sync  # noqa: E402

import musicinterp as mi  # noqa: E402


def _pair(model, pairs: int, frames: int) -> tuple:
    """Two prompts (random token ids of the same length) on the same random codes."""
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (pairs, model.n_codebooks, frames), generator=g)
    vocab = int(model.hf.config.text_encoder.vocab_size)
    ids = torch.randint(1, min(vocab, 1000), (2, pairs, 8), generator=g)
    clean = mi.ablation.teacher_forced(model, codes.to(model.device), input_ids=ids[0].to(model.device),
                                       label="clean")
    corrupt = mi.ablation.teacher_forced(model, codes.to(model.device), input_ids=ids[1].to(model.device),
                                         label="corrupt")
    return clean, corrupt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="random-small")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--max-rows", type=int, default=32, help="decoder rows per batched forward pass")
    ap.add_argument("--loop-cells", type=int, default=0, help="time the loop on this many cells only (0: all)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = mi.load_model(args.model, device=args.device)
    frames = int(round(args.seconds * 50))
    clean, corrupt = _pair(model, args.pairs, frames)
    kw = dict(site="attn_z", over=("layer", "head"), metric="kl", direction="denoise", progress=False)

    sync(args.device)
    t0 = time.perf_counter()
    batched = mi.patch(model, clean, corrupt, max_rows=args.max_rows, **kw)
    sync(args.device)
    batched_s = time.perf_counter() - t0
    print(f"batched: {batched_s:.1f} s for {batched.tensor.numel()} cells")

    n_cells = batched.tensor.numel()
    if args.loop_cells and args.loop_cells < n_cells:
        picks = torch.linspace(0, n_cells - 1, args.loop_cells).round().long().unique().tolist()
        sets = [[(i // model.n_heads, i % model.n_heads)] for i in picks]
        sync(args.device)
        t0 = time.perf_counter()
        loop = mi.ablation.patch_sets(model, clean, corrupt, sets, site="attn_z", metric="kl", batched=False)
        sync(args.device)
        loop_s = (time.perf_counter() - t0) * n_cells / len(picks)
        got = batched.per_codebook.reshape(n_cells, -1)[picks]
        loop_cells = len(picks)
    else:
        sync(args.device)
        t0 = time.perf_counter()
        loop = mi.patch(model, clean, corrupt, batched=False, **kw)
        sync(args.device)
        loop_s = time.perf_counter() - t0
        got = batched.per_codebook.reshape(n_cells, -1)
        loop_cells = n_cells
    diff = float((got - loop.per_codebook.reshape(got.shape)).abs().max())
    print(f"loop: {loop_s:.1f} s ({loop_cells} cells traced); max |batched - loop| = {diff:.2e}")
    print(f"top heads: {batched.top(4)}")
    print_json({"model": args.model, "device": args.device, "threads": torch.get_num_threads(),
                "cells": n_cells, "frames": frames, "pairs": args.pairs, "max_rows": args.max_rows,
                "batched_s": round(batched_s, 2), "loop_s": round(loop_s, 2),
                "loop_extrapolated_from_cells": None if loop_cells == n_cells else loop_cells,
                "speedup": round(loop_s / batched_s, 2), "max_abs_diff": diff,
                "target_speedup": 5.0, "target_max_abs_diff": 1e-4})


if __name__ == "__main__":
    main()
