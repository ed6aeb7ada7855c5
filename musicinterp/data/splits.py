"""Train/validation splits: 4:1, stratified by label, grouped by source clip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError


def grouped_stratified_split(labels: Sequence[float], groups: Sequence[str], val_fraction: float = 0.2,
                             seed: int = 0) -> list[str]:
    """``"train"``/``"val"`` per example; every group lands on one side, per-label proportions kept.

    Groups are assigned to a stratum by their majority label, shuffled with ``seed``,
    and the first ``round(val_fraction * n_groups)`` of each stratum go to validation.
    """
    labels = list(labels)
    if len(labels) != len(groups):
        raise InputError(f"{len(labels)} labels for {len(groups)} groups")
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    strata: dict[float, list[str]] = {}
    for g, idx in members.items():
        vals = [labels[i] for i in idx]
        key = max(set(vals), key=vals.count)
        strata.setdefault(key, []).append(g)
    rng = np.random.default_rng(seed)
    val_groups: set[str] = set()
    for key in sorted(strata):
        gs = sorted(strata[key])
        rng.shuffle(gs)
        n_val = int(round(val_fraction * len(gs)))
        if len(gs) >= 2:
            n_val = min(max(n_val, 1), len(gs) - 1)
        val_groups.update(gs[:n_val])
    return ["val" if g in val_groups else "train" for g in groups]
