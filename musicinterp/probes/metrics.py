"""Validation metrics computed for every group at once."""

from __future__ import annotations

import torch


def batched_auc(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ROC AUC per row of ``scores (G, N)`` against binary ``labels (N,)`` (ties count half).

    Mann-Whitney form on tie-averaged ranks, so memory stays ``O(G N)``.
    """
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((labels == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return torch.full((scores.shape[0],), float("nan"))
    s = scores.to(torch.float64)
    ordered = torch.sort(s, dim=1).values
    below = torch.searchsorted(ordered, s, right=False)
    upto = torch.searchsorted(ordered, s, right=True)
    ranks = (below + upto + 1).to(torch.float64) / 2  # 1-based, ties averaged
    return (ranks[:, pos].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
