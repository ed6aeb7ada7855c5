"""How well each feature picks out each concept, and how its direction relates to the concept's.

* :func:`rank_auc`: ROC AUC of every column of ``scores`` against binary labels
  at once, from average ranks (Mann-Whitney U), so ties (features silent on
  many clips) count half, as in scikit-learn's ``roc_auc_score``.
* :func:`concept_directions`: per concept, the difference-in-means direction
  (from the store's running class means) and a logistic probe's weight (on
  the clip-pooled activations of the SAE's site and layer), in the SAE's
  input space.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from .artifact import SAE


def rank_auc(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """AUC ``(F,)`` of each column of ``scores (N, F)`` for binary ``labels (N,)`` (NaN with one class)."""
    y = labels.bool().numpy()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return torch.full((scores.shape[1],), float("nan"))
    ranks = rankdata(scores.double().numpy(), axis=0)  # average ranks for ties
    u = ranks[y].sum(0) - n_pos * (n_pos + 1) / 2
    return torch.from_numpy(np.asarray(u / (n_pos * n_neg), dtype=np.float32))


def binary_concepts(labels: dict[str, torch.Tensor]) -> list[str]:
    return [c for c, v in labels.items() if set(torch.unique(v[torch.isfinite(v)]).tolist()) <= {0.0, 1.0}
            and torch.unique(v[torch.isfinite(v)]).numel() == 2]


def _site_slice(v: torch.Tensor, sae: SAE, store: Any) -> torch.Tensor:
    """A flattened ``(D,)`` site vector -> the SAE's input space (one head's slice when it has a head)."""
    if sae.head is not None:
        hd = store.site_shape(sae.site)[-1]
        return v[sae.head * hd:(sae.head + 1) * hd]
    return v


def concept_directions(sae: SAE, store: Any, concepts: list[str], probes: bool = True
                       ) -> dict[str, dict[str, torch.Tensor]]:
    """``{"diffmeans": {concept: (d_in,)}, "probe": {concept: (d_in,)}}`` unit directions in the SAE's input space."""
    stats = store.stats(sae.site)
    out: dict[str, dict[str, torch.Tensor]] = {"diffmeans": {}, "probe": {}}
    for c in concepts:
        try:
            v = (stats.class_mean(c, 1) - stats.class_mean(c, 0))[sae.layer].float().reshape(-1)
        except ValueError:
            continue
        v = _site_slice(v, sae, store)
        out["diffmeans"][c] = v / v.norm().clamp_min(1e-12)
    if probes and concepts:
        out["probe"] = _probe_directions(sae, store, [c for c in concepts if c in out["diffmeans"]])
    return out


def _probe_directions(sae: SAE, store: Any, concepts: list[str]) -> dict[str, torch.Tensor]:
    from ..probes import fit_probe_bank
    from ..store.reader import ProbeView

    view = store.probe_view(sae.site, "mean")
    x = view.x[:, sae.layer]
    x = x[:, sae.head] if sae.head is not None else x.reshape(x.shape[0], -1)
    layer_view = ProbeView(x=x[:, None].float(), labels=view.labels, clip_ids=view.clip_ids, groups=view.groups,
                           splits=view.splits, site=sae.site, pooling="mean")
    out = {}
    for c in concepts:
        w = fit_probe_bank(layer_view, c, sae.site).weight[0].float()
        out[c] = w / w.norm().clamp_min(1e-12)
    return out


def cosines(sae: SAE, directions: dict[str, dict[str, torch.Tensor]]) -> dict[str, dict[str, torch.Tensor]]:
    """Cosine ``(F,)`` of every decoder column with every concept direction (columns are unit norm)."""
    dec = sae.directions.float().cpu()
    return {kind: {c: v @ dec for c, v in dirs.items()} for kind, dirs in directions.items()}
