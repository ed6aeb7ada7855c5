"""Kernel audio distance: the unbiased MMD^2 between two embedding sets under an RBF kernel.

k(x, y) = exp(-|x - y|^2 / (2 h^2)) with the bandwidth h the median pairwise distance of
the pooled set (or a fixed value). The unbiased estimator leaves out the i = j terms of
each within-set sum, so its mean over draws from one distribution is zero (it can be
negative); :func:`kad` with ``unbiased=False`` gives the biased V-statistic for comparison.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist

from .fad import Interval, MeasureError, _check_boot, _check_pair, few_threads, resample_indices


def median_bandwidth(a: np.ndarray, b: np.ndarray) -> float:
    """The median Euclidean distance between distinct points of the pooled set ``a`` + ``b``."""
    a, b = _check_pair(a, b)
    h = float(np.median(pdist(np.concatenate([a, b]))))
    if not h > 0:
        raise MeasureError(f"the median pairwise distance of sets of shapes {a.shape} and {b.shape} is 0; "
                           "pass a bandwidth")
    return h


def _kernel(x: np.ndarray, y: np.ndarray, h: float) -> np.ndarray:
    return np.exp(-cdist(x, y, "sqeuclidean") / (2.0 * h * h))


def _within_mean(k: np.ndarray, idx: np.ndarray | None, unbiased: bool) -> float:
    """Mean of a within-set kernel matrix over pairs; unbiased: pairs of distinct original points only."""
    n = len(k)
    if not unbiased:
        return float(k.sum() / (n * n))
    ids = np.arange(n) if idx is None else idx
    keep = ids[:, None] != ids[None, :]
    return float(k[keep].mean()) if keep.any() else float("nan")  # nan: a resample of one repeated point


def _check_bandwidth(bandwidth: float | None, a: np.ndarray, b: np.ndarray) -> float:
    if bandwidth is None:
        return median_bandwidth(a, b)
    h = float(bandwidth)
    if not (np.isfinite(h) and h > 0):
        raise MeasureError(f"bandwidth must be a positive number, got {bandwidth}")
    return h


def _mmd2(a: np.ndarray, b: np.ndarray, h: float, unbiased: bool, ia: np.ndarray | None = None,
          ib: np.ndarray | None = None, paired: bool = False) -> float:
    """MMD^2; ``paired`` (row i of a and of b from one prompt) also leaves out the cross terms (a_i, b_i),
    Gretton et al.'s U-statistic over pairs i != j, which a paired resample keeps unbiased too."""
    kaa, kbb, kab = _kernel(a, a, h), _kernel(b, b, h), _kernel(a, b, h)
    cross = float(kab.mean())
    if paired and unbiased:
        ia_, ib_ = (np.arange(len(a)) if ia is None else ia), (np.arange(len(b)) if ib is None else ib)
        keep = ia_[:, None] != ib_[None, :]
        cross = float(kab[keep].mean()) if keep.any() else float("nan")
    return _within_mean(kaa, ia, unbiased) + _within_mean(kbb, ib, unbiased) - 2.0 * cross


def kad(a: np.ndarray, b: np.ndarray, *, bandwidth: float | None = None, unbiased: bool = True,
        paired: bool = False) -> float:
    """MMD^2 between ``(n, d)`` and ``(m, d)`` embeddings, RBF kernel at ``bandwidth`` (default: the pooled median
    pairwise distance). Unbiased (U-statistic) by default; ``unbiased=False`` is the biased V-statistic;
    ``paired`` leaves out the cross terms of matched rows too."""
    a, b = _check_pair(a, b)
    if paired and len(a) != len(b):
        raise MeasureError(f"paired sets need the same number of rows, got shapes {a.shape} and {b.shape}")
    return _mmd2(a, b, _check_bandwidth(bandwidth, a, b), unbiased, paired=paired)


def kad_interval(a: np.ndarray, b: np.ndarray, *, bandwidth: float | None = None, n_boot: int = 200,
                 level: float = 0.95, seed: int = 0, paired: bool = False) -> Interval:
    """Unbiased KAD with a percentile bootstrap interval (``seed`` fixed; rows resampled jointly when ``paired``).

    The bandwidth is fixed from the full sets; within a resample, pairs that are two copies of
    one original point are left out, as the i = j terms are in the estimate itself.
    """
    a, b = _check_pair(a, b)
    _check_boot(n_boot, level)
    h = _check_bandwidth(bandwidth, a, b)
    rng = np.random.default_rng(seed)
    draws = []
    with few_threads(a.shape[1]):
        for _ in range(n_boot):
            ia, ib = resample_indices(rng, len(a), len(b), paired)
            draws.append(_mmd2(a[ia], b[ib], h, True, ia, ib, paired))
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(draws, [tail, 100 - tail])
    return Interval(_mmd2(a, b, h, True, paired=paired), float(low), float(high), level)
