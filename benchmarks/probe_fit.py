"""Batched probe bank vs the per-head scikit-learn loop (the ITI reference) at musicgen-large's head shape.

48 layers x 32 heads x 64 dims, 2000 examples. Features are synthetic with
realistic structure: correlated, anisotropic per head (a random mixing matrix
with decaying spectrum), a per-head offset, and planted class signal in a few
heads of graded strength; the rest carry none. Both fit on the same split;
the figures are wall time and the largest per-head validation-accuracy gap.

    python benchmarks/probe_fit.py [--n 2000] [--layers 48] [--heads 32] [--dim 64] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp.probes import ProbeConfig, fit_probe_bank  # noqa: E402
from musicinterp.splits import grouped_stratified_split  # noqa: E402
from musicinterp.store.reader import ProbeView  # noqa: E402


def synthetic_view(n: int, layers: int, heads: int, dim: int, seed: int = 0) -> ProbeView:
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor([i % 2 for i in range(n)], dtype=torch.float32)
    spectrum = torch.logspace(0, -1.5, dim)
    mix = torch.randn(heads, dim, dim, generator=g) / dim**0.5 * spectrum
    x = torch.empty(n, layers, heads, dim)
    for layer in range(layers):
        z = torch.randn(n, heads, dim, generator=g)
        x[:, layer] = torch.einsum("nhd,hde->nhe", z, mix) * 3 + torch.randn(heads, dim, generator=g)
    planted = torch.randint(0, layers * heads, (24,), generator=g)
    for rank, flat in enumerate(planted.tolist()):
        layer, head = divmod(flat, heads)
        direction = torch.randn(dim, generator=g)
        x[:, layer, head] += (0.05 + 0.05 * rank) * y[:, None] * direction
    ids = [f"c{i}" for i in range(n)]
    return ProbeView(x=x, labels={"c": y}, clip_ids=ids, groups=[f"g{i // 2}" for i in range(n)],
                     splits=["train"] * n, site="attn_z", pooling="mean")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sklearn-heads", type=int, default=None,
                    help="fit scikit-learn on this many heads and scale its time (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    view = synthetic_view(args.n, args.layers, args.heads, args.dim)
    groups = args.layers * args.heads

    t0 = time.perf_counter()
    bank = fit_probe_bank(view, "c", "attn_z", config=ProbeConfig(device=args.device))
    batched_s = time.perf_counter() - t0

    split = grouped_stratified_split(view.labels["c"].tolist(), view.groups, 0.2, 0)
    val = np.array([s == "val" for s in split])
    x = view.x.reshape(args.n, groups, args.dim).numpy().astype(np.float64)
    y = view.labels["c"].numpy()
    heads = list(range(groups)) if args.sklearn_heads is None else \
        np.random.default_rng(0).choice(groups, args.sklearn_heads, replace=False).tolist()
    accs = {}
    t0 = time.perf_counter()
    for g in tqdm(heads, desc="scikit-learn per head"):
        clf = LogisticRegression(max_iter=1000, C=1.0).fit(x[~val, g], y[~val])
        accs[g] = clf.score(x[val, g], y[val])
    sk_s = (time.perf_counter() - t0) * groups / len(heads)
    diff = max(abs(accs[g] - float(bank.val_acc[g])) for g in heads) * 100
    print(f"{groups} heads x {args.dim} dims, n={args.n}: batched {batched_s:.2f}s, scikit-learn loop {sk_s:.1f}s"
          + ("" if args.sklearn_heads is None else f" (scaled from {len(heads)} heads)"))
    print(f"best head accuracy {float(bank.val_acc.max()):.3f}; max per-head accuracy difference {diff:.2f} points")
    print_json({"heads": groups, "dim": args.dim, "n": args.n, "device": args.device,
                "batched_s": round(batched_s, 3), "sklearn_s": round(sk_s, 2),
                "sklearn_heads_timed": len(heads), "speedup_vs_sklearn": round(sk_s / batched_s, 2),
                "max_acc_diff_pts": round(diff, 3), "best_acc": round(float(bank.val_acc.max()), 4),
                "targets": {"speedup_vs_sklearn": ">=50", "max_acc_diff_pts": "<=1.0"}})


if __name__ == "__main__":
    main()
