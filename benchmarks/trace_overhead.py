"""Generation cost of nnsight tracing: plain HF generate vs traced no-op vs traced per-step edits.

Batch 2 with classifier-free guidance (4 decoder rows), 50 decoder steps. The
edit adds a small vector to every head of every layer's ``attn_z`` at every
step. Runs are interleaved (plain, no-op, edit) so drift hits all three alike.

    python benchmarks/trace_overhead.py [--model random-small] [--device cpu|cuda] [--dtype float32]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, plain_generate, print_json, sync  # noqa: E402

from musicinterp import add, generate, load_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="random-small")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    model = load_model(args.model, dtype=args.dtype, device=args.device)
    ids = torch.randint(1, 1000, (args.batch, 8), generator=torch.Generator().manual_seed(0))
    kw = dict(input_ids=ids, max_new_tokens=args.steps, guidance_scale=3.0, do_sample=True, top_k=250,
              decode_audio=False)
    vec = 1e-3 * torch.randn(model.n_heads, model.head_dim, generator=torch.Generator().manual_seed(1))
    edits = [add("attn_z", layer, vec) for layer in range(model.n_layers)]
    dev_ids = ids.to(model.device)

    def plain() -> None:
        plain_generate(model, dev_ids, args.steps)

    def traced_noop() -> None:
        generate(model, seed=0, traced=True, **kw)

    def traced_edit() -> None:
        generate(model, seed=0, interventions=edits, **kw)

    runs = {"plain": plain, "noop": traced_noop, "edit": traced_edit}
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    import time

    for _ in range(args.repeats):
        for name, fn in runs.items():
            sync(args.device)
            t0 = time.perf_counter()
            fn()
            sync(args.device)
            times[name].append(time.perf_counter() - t0)
    plain_s, noop_s, edit_s = (median(times[k]) for k in ("plain", "noop", "edit"))
    print(f"{args.model} on {args.device} ({args.dtype}), {args.steps} steps, batch {args.batch} with CFG")
    for k, v in times.items():
        print(f"  {k:6s} " + " ".join(f"{t:.3f}s" for t in v))
    print_json({
        "model": args.model, "device": args.device, "dtype": args.dtype, "steps": args.steps,
        "batch": args.batch, "cfg_rows": 2 * args.batch, "edited_sites_per_step": model.n_layers,
        "plain_s": round(plain_s, 4), "traced_noop_s": round(noop_s, 4), "traced_edit_s": round(edit_s, 4),
        "ratio_noop": round(noop_s / plain_s, 4), "ratio_edit": round(edit_s / plain_s, 4),
        "target_ratio_edit": 1.10,
    })


if __name__ == "__main__":
    main()
