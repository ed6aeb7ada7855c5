"""Batched probe bank vs the per-head scikit-learn loop (the ITI reference), side by side in one run.

Default shape: 1536 heads (musicgen-large's 48 layers x 32 heads) x 64 dims,
2000 examples (4:1 grouped, stratified split). Features are synthetic with
realistic structure: correlated, anisotropic per head (a random mixing matrix
with a decaying spectrum), a per-head offset, and planted class signal of
graded strength in a few heads; the rest carry none.

The reference is ``LogisticRegression(C=1)`` fitted per head and run to
convergence (``--sklearn-tol 1e-8``, ``--sklearn-max-iter 100000``, lbfgs): both
the parity oracle and the timed baseline. For context the run also times
scikit-learn's defaults (``tol=1e-4``, ``max_iter=1000``) on a random subset of
heads (``--default-tol-heads``) and reports that speed-up too. Both sides get
the same 2 threads (``torch.set_num_threads(--threads)``; scikit-learn's BLAS is
limited to the same count with threadpoolctl). Wall and CPU times are reported:
on a shared machine the CPU-time ratio is the steadier one.

    python benchmarks/probe_fit.py [--n 2000] [--layers 48] [--heads 32] [--dim 64] [--sklearn-heads K]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp.data.splits import grouped_stratified_split  # noqa: E402
from musicinterp.probes import ProbeConfig, fit_probe_bank  # noqa: E402
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
    groups = [f"g{i // 2}" for i in range(n)]
    splits = grouped_stratified_split(y.tolist(), groups, 0.2, 0)
    return ProbeView(x=x, labels={"c": y}, clip_ids=[f"c{i}" for i in range(n)], groups=groups, splits=splits,
                     site="attn_z", pooling="mean")


def sklearn_loop(x: np.ndarray, y: np.ndarray, val: np.ndarray, heads: list[int], tol: float, max_iter: int,
                 desc: str) -> tuple[dict[int, float], float, float, int]:
    """Per-head fits: validation accuracy per head, wall and CPU seconds, and the most iterations any took."""
    accs: dict[int, float] = {}
    most = 0
    w0, c0 = time.perf_counter(), time.process_time()
    for g in tqdm(heads, desc=desc):
        clf = LogisticRegression(C=1.0, tol=tol, max_iter=max_iter).fit(x[~val, g], y[~val])
        accs[g] = clf.score(x[val, g], y[val])
        most = max(most, int(clf.n_iter_[0]))
    return accs, time.perf_counter() - w0, time.process_time() - c0, most


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sklearn-tol", type=float, default=1e-8)
    ap.add_argument("--sklearn-max-iter", type=int, default=100_000)
    ap.add_argument("--sklearn-heads", type=int, default=None,
                    help="fit the converged reference on this many random heads and scale its time (default: all)")
    ap.add_argument("--default-tol-heads", type=int, default=64,
                    help="heads on which scikit-learn's defaults are also timed, for context (0: skip)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    view = synthetic_view(args.n, args.layers, args.heads, args.dim)
    groups = args.layers * args.heads
    rng = np.random.default_rng(0)

    fit_probe_bank(synthetic_view(200, 1, 2, args.dim, seed=1), "c")  # warm-up: first-call library set-up
    w0, c0 = time.perf_counter(), time.process_time()
    bank = fit_probe_bank(view, "c", "attn_z", config=ProbeConfig(device=args.device))
    batched_s, batched_cpu = time.perf_counter() - w0, time.process_time() - c0

    val = np.array([s == "val" for s in view.splits])
    x = view.x.reshape(args.n, groups, args.dim).numpy().astype(np.float64)
    y = view.labels["c"].numpy()
    heads = list(range(groups)) if args.sklearn_heads is None else \
        sorted(rng.choice(groups, args.sklearn_heads, replace=False).tolist())
    with threadpool_limits(args.threads):
        accs, sk_s, sk_cpu, sk_iters = sklearn_loop(x, y, val, heads, args.sklearn_tol, args.sklearn_max_iter,
                                                    f"scikit-learn tol={args.sklearn_tol:g}")
        scale = groups / len(heads)
        sk_s, sk_cpu = sk_s * scale, sk_cpu * scale
        default = {}
        if args.default_tol_heads:
            sub = sorted(rng.choice(groups, min(args.default_tol_heads, groups), replace=False).tolist())
            _, d_s, d_cpu, _ = sklearn_loop(x, y, val, sub, 1e-4, 1000, "scikit-learn defaults")
            default = {"sklearn_default_s": round(d_s * groups / len(sub), 2),
                       "speedup_vs_sklearn_default_tol": round(d_s * groups / len(sub) / batched_s, 2),
                       "speedup_vs_sklearn_default_tol_cpu": round(d_cpu * groups / len(sub) / batched_cpu, 2),
                       "sklearn_default_heads_timed": len(sub)}
    diffs = np.array([abs(accs[g] - float(bank.val_acc[g])) for g in heads]) * 100
    print(f"{groups} heads x {args.dim} dims, n={args.n}: batched {batched_s:.2f}s (cpu {batched_cpu:.2f}s), "
          f"scikit-learn loop tol={args.sklearn_tol:g} {sk_s:.1f}s (cpu {sk_cpu:.1f}s)"
          + ("" if args.sklearn_heads is None else f", scaled from {len(heads)} heads"))
    print(f"best head accuracy {float(bank.val_acc.max()):.3f}; per-head accuracy difference max {diffs.max():.2f} "
          f"points, {int((diffs > 0).sum())} heads differ; solver {bank.meta['solver']}")
    print_json({"heads": groups, "dim": args.dim, "n": args.n, "n_train": bank.n_train, "n_val": bank.n_val,
                "device": args.device, "threads": args.threads, "load_avg_1m": round(os.getloadavg()[0], 2),
                "batched_s": round(batched_s, 3), "batched_cpu_s": round(batched_cpu, 3),
                "sklearn_s": round(sk_s, 2), "sklearn_cpu_s": round(sk_cpu, 2), "sklearn_tol": args.sklearn_tol,
                "sklearn_max_iter": args.sklearn_max_iter, "sklearn_solver": "lbfgs",
                "sklearn_most_iterations": sk_iters, "sklearn_heads_timed": len(heads),
                "speedup_vs_sklearn": round(sk_s / batched_s, 2),
                "speedup_vs_sklearn_cpu": round(sk_cpu / batched_cpu, 2),
                **default, "max_acc_diff_pts": round(float(diffs.max()), 3),
                "mean_acc_diff_pts": round(float(diffs.mean()), 4), "heads_differing": int((diffs > 0).sum()),
                "solver_iterations_max": bank.meta["solver"]["iterations_max"],
                "best_acc": round(float(bank.val_acc.max()), 4),
                "targets": {"speedup_vs_sklearn": ">=50", "max_acc_diff_pts": "<=1.0"}})


if __name__ == "__main__":
    main()
