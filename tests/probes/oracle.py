"""The scikit-learn reference (the per-head loop ITI uses) and small planted probe views, shared by the probe tests."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from musicinterp.data.splits import grouped_stratified_split
from musicinterp.probes import ProbeConfig, split_indices
from musicinterp.store.reader import ProbeView


def sklearn_head_accuracies(view: ProbeView, concept: str, C: float = 1.0) -> np.ndarray:
    """Validation accuracy per group of ``LogisticRegression`` run to convergence, on the bank's own split."""
    x = view.x.reshape(view.x.shape[0], -1, view.x.shape[-1]).numpy().astype(np.float64)
    y = view.labels[concept].numpy()
    val = np.isin(np.arange(len(y)), split_indices(view, concept, ProbeConfig())[1].numpy())
    accs = []
    for g in range(x.shape[1]):
        clf = LogisticRegression(C=C, tol=1e-8, max_iter=100_000).fit(x[~val, g], y[~val])
        accs.append(clf.score(x[val, g], y[val]))
    return np.array(accs)


def planted_view(n: int = 240, layers: int = 3, heads: int = 4, d: int = 8, seed: int = 0) -> ProbeView:
    """Noise heads plus one strong and one weak planted head; clips come in groups of two."""
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor([i % 2 for i in range(n)], dtype=torch.float32)
    x = torch.randn(n, layers, heads, d, generator=g) * 2 + 0.5
    x[:, 1, 2, 0] += 8.0 * y  # a strong head
    x[:, 2, 0, :3] += 0.8 * y[:, None]  # a weaker one
    groups = [f"g{i // 2}" for i in range(n)]
    splits = grouped_stratified_split(y.tolist(), groups, 0.2, 0)
    return ProbeView(x=x, labels={"drums": y}, clip_ids=[f"c{i}" for i in range(n)], groups=groups,
                     splits=splits, site="attn_z", pooling="mean")
