"""Where the organism's four planted concepts are linearly readable: logistic probe accuracy per attention head.

For each planted concept (drums, tempo, timbre, bass), a balanced set of organism
clips (``mi.organism.balanced_set``, half with the concept on, half off) is
collected as the demo collects it: the pooled mean of ``attn_z`` over valid
frames at every layer, into a temporary store (removed at the end). The
package's probe bank (``mi.fit_probe_bank``: one L2 logistic probe per head,
``C = 1``, on the store's 4:1 split grouped by clip) is fitted per concept, and
the best head (highest validation accuracy, ties broken by AUC, then by the
lowest index), its AUC, the mean accuracy over all heads and the best per layer
are reported. Oracle: the best head refitted with scikit-learn's
``LogisticRegression(C=1)`` run to convergence on the same rows and the same raw
features (the bank standardises inside its solver and maps the solution back,
so the objective is scikit-learn's), as tests/probes/oracle.py does;
``sklearn_gap`` is bank accuracy minus scikit-learn's (0 when they agree).

    python benchmarks/probe_organism.py [--clips 256] [--seconds 4] [--threads 2] [--seed 7]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.probes import ProbeBank, ProbeConfig, split_indices  # noqa: E402
from musicinterp.store.reader import ProbeView  # noqa: E402

SITE = "attn_z"


def best_head(bank: ProbeBank) -> tuple[int, int]:
    """The most accurate head; ties (common: many heads reach 1.0) broken by AUC, then the lowest index."""
    acc, auc = bank.val_acc.tolist(), torch.nan_to_num(bank.val_auc, nan=0.0).tolist()
    g = max(range(len(acc)), key=lambda i: (acc[i], auc[i], -i))
    layer, head = divmod(g, bank.grid[1])
    return layer, head


def sklearn_accuracy(view: ProbeView, concept: str, layer: int, head: int) -> float:
    """Validation accuracy of ``LogisticRegression(C=1)`` on one head, on the bank's own train/val rows."""
    tr, va = split_indices(view, concept, ProbeConfig())
    x = view.x[:, layer, head].numpy().astype(np.float64)
    y = view.labels[concept].numpy()
    clf = LogisticRegression(C=1.0, tol=1e-8, max_iter=100_000).fit(x[tr.numpy()], y[tr.numpy()])
    return float(clf.score(x[va.numpy()], y[va.numpy()]))


def concept_figures(model: Any, concept: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n_frames = int(round(args.seconds * model.frame_rate))
    clips = mi.organism.balanced_set(concept, args.clips, seed=args.seed, n_frames=n_frames)
    store = mi.collect(model, clips, [SITE], out=work / concept, frames="pooled", batch_size=32, progress=False)
    bank = mi.fit_probe_bank(store, concept, SITE)
    layer, head = best_head(bank)
    acc = float(bank.accuracy_grid()[layer, head])
    with threadpool_limits(args.threads):
        sk = sklearn_accuracy(store.probe_view(SITE), concept, layer, head)
    grid = bank.accuracy_grid()
    return {"best_layer": layer, "best_head": head, "accuracy": round(acc, 4),
            "auc": round(float(bank.auc_grid()[layer, head]), 4),
            "mean_accuracy": round(float(bank.val_acc.mean()), 4),
            "layer_best": [round(float(v), 4) for v in grid.max(dim=1).values],
            "heads_at_best": int((bank.val_acc >= acc).sum()), "n_train": bank.n_train, "n_val": bank.n_val,
            "sklearn_accuracy": round(sk, 4), "sklearn_gap": round(acc - sk, 4) + 0.0}  # + 0.0: no "-0.0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=256, help="clips per concept (balanced on that concept)")
    ap.add_argument("--seconds", type=float, default=4.0, help="clip length")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7, help="concept-set seed (the demo's is 7)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    work = Path(tempfile.mkdtemp(prefix="mi-probe-organism-"))
    concepts: dict[str, dict[str, Any]] = {}
    try:
        for concept in mi.organism.CONCEPTS:
            f = concepts[concept] = concept_figures(model, concept, args, work)
            print(f"{concept:7s} best L{f['best_layer']}H{f['best_head']} acc {f['accuracy']:.3f} "
                  f"auc {f['auc']:.3f} ({f['heads_at_best']} heads at best), mean over heads "
                  f"{f['mean_accuracy']:.3f}, per layer {f['layer_best']}, n_val {f['n_val']}, "
                  f"scikit-learn {f['sklearn_accuracy']:.3f} (gap {f['sklearn_gap']:+.3f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - t0
    print(f"{len(concepts)} concepts x {args.clips} clips of {args.seconds:g} s in {seconds:.0f} s")
    print_json({"clips": args.clips, "clip_seconds": args.seconds, "site": SITE, "pooling": "mean",
                "layers": model.n_layers, "seed": args.seed, "threads": args.threads, "concepts": concepts,
                "seconds": round(seconds, 1)})


if __name__ == "__main__":
    main()
