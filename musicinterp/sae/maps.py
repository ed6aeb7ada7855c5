"""A 2-D map of decoder directions with umap-learn.

Neighbours are computed exactly here (cosine, in torch) and handed to UMAP as
``precomputed_knn``: for a few thousand features this is faster than its own
search and skips compiling it (UMAP's numba code compiles on first use in a
process; the layout still does, tens of seconds on a laptop CPU).
"""

from __future__ import annotations

import warnings

import torch


def decoder_map(directions: torch.Tensor, *, n_neighbors: int = 15, seed: int = 0, min_dist: float = 0.1
                ) -> torch.Tensor:
    """UMAP coordinates ``(F, 2)`` of the decoder columns ``(d_in, F)`` under cosine distance."""
    import umap

    x = directions.T.float().cpu()
    x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    n = x.shape[0]
    k = max(2, min(n_neighbors, n - 1))
    dist = (1 - x @ x.T).clamp_min(0)
    dist.fill_diagonal_(0)
    knn_d, knn_i = torch.topk(dist, k, largest=False)  # includes each point itself at distance 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seed-forces-one-thread and no-search-index notices
        reducer = umap.UMAP(n_neighbors=k, metric="cosine", min_dist=min_dist, random_state=seed,
                            precomputed_knn=(knn_i.numpy(), knn_d.numpy(), None))
        xy = reducer.fit_transform(x.numpy())
    return torch.from_numpy(xy).float()
