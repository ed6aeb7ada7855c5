"""Fréchet audio distance over embedding sets, with a bootstrap interval and the 1/n extrapolation (FAD-inf).

FAD = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) between Gaussians fitted to two
sets of embeddings. The plug-in estimate is biased upward at small n (the bias
shrinks roughly as 1/n), so a few dozen clips per setting need either a bootstrap
interval (:func:`fad_interval`) or fadtk's FAD-inf (:func:`fad_inf`): FAD on subsets of
several sizes, fitted linearly against 1/n and read at 1/n = 0.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from ..errors import MusicInterpError


class MeasureError(ValueError, MusicInterpError):
    """Bad input to an audio measure: the message names the argument and its shape."""


JITTER = 1e-6  # added to both covariances' diagonals (times their mean variance) when the product is singular


def check_embeddings(x: np.ndarray, what: str, min_rows: int = 2) -> np.ndarray:
    """``x`` as a finite float64 ``(n, d)`` array with at least ``min_rows`` rows, or a :class:`MeasureError`."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise MeasureError(f"{what} must be an (n, d) array of embeddings, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise MeasureError(f"{what} needs at least {min_rows} rows, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise MeasureError(f"{what} holds non-finite values (shape {arr.shape})")
    return arr


def _check_pair(a: np.ndarray, b: np.ndarray, min_rows: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a, b = check_embeddings(a, "a", min_rows), check_embeddings(b, "b", min_rows)
    if a.shape[1] != b.shape[1]:
        raise MeasureError(f"a and b must have the same embedding width, got shapes {a.shape} and {b.shape}")
    return a, b


def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` of ``(n, d)`` embeddings."""
    x = check_embeddings(x, "x")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrtm_trace(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) by ``scipy.linalg.sqrtm``, real part; a diagonal jitter when the product is singular."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    bad = not np.isfinite(covmean).all() or np.abs(np.imag(covmean)).max() > 1e-3 * max(1.0, np.abs(covmean).max())
    if bad:
        scale = max(float(np.trace(s1) + np.trace(s2)) / (2 * len(s1)), 1e-12)
        eye = np.eye(len(s1)) * JITTER * scale
        covmean = scipy.linalg.sqrtm((s1 + eye) @ (s2 + eye))
        if not np.isfinite(covmean).all():
            raise MeasureError(f"the square root of the covariance product (shape {s1.shape}) is not finite")
    return float(np.real(np.trace(covmean)))


def _eigh_trace(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) = sum of sqrt eigenvalues of the symmetric PSD A S2 A, A = S1^(1/2) (same spectrum)."""
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    lam = np.linalg.eigvalsh(root @ ((s2 + s2.T) / 2) @ root)
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray, *,
                     method: str = "eigh") -> float:
    """Fréchet distance between N(mu1, S1) and N(mu2, S2) from their moments.

    ``method="sqrtm"`` takes tr((S1 S2)^(1/2)) from ``scipy.linalg.sqrtm`` as fadtk and pytorch-fid do (real
    part, diagonal jitter when singular); the default ``"eigh"`` computes the same trace from symmetric
    eigenvalues, which stays exact and fast for the rank-deficient covariances of small sets (n <= d),
    where ``sqrtm`` is ~50x slower.
    """
    if method not in ("eigh", "sqrtm"):
        raise MeasureError(f"method must be 'eigh' or 'sqrtm', got {method!r}")
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(s1, np.float64)), np.atleast_2d(np.asarray(s2, np.float64))
    d = mu1.shape[0]
    for name, mu in (("mu1", mu1), ("mu2", mu2)):
        if mu.shape != (d,):
            raise MeasureError(f"{name} must be a vector of length {d}, got shape {mu.shape}")
    for name, s in (("s1", s1), ("s2", s2)):
        if s.shape != (d, d):
            raise MeasureError(f"{name} must be a ({d}, {d}) covariance, got shape {s.shape}")
    diff = mu1 - mu2
    root_trace = (_eigh_trace if method == "eigh" else _sqrtm_trace)(s1, s2)
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * root_trace)
    return max(value, 0.0)  # rounding can leave a tiny negative for identical sets


def fad(a: np.ndarray, b: np.ndarray, *, method: str = "eigh") -> float:
    """FAD between two ``(n, d)`` embedding sets (plug-in: sample mean and covariance of each)."""
    a, b = _check_pair(a, b)
    return frechet_distance(*moments(a), *moments(b), method=method)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile interval at ``level``."""

    value: float
    low: float
    high: float
    level: float = 0.95

    def __repr__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high, "level": self.level}


def few_threads(width: int) -> AbstractContextManager:
    """One BLAS thread for the many small matrices of a resampling loop (threads only contend at this size)."""
    return threadpool_limits(limits=1) if width <= 256 else nullcontext()


def resample_indices(rng: np.random.Generator, n_a: int, n_b: int, paired: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap row indices for two sets; ``paired`` draws one index set for both (row i of a goes with row i
    of b: same prompts and seeds), keeping the pairing the comparison was run with."""
    if paired:
        if n_a != n_b:
            raise MeasureError(f"paired sets need the same number of rows, got {n_a} and {n_b}")
        idx = rng.integers(0, n_a, n_a)
        return idx, idx
    return rng.integers(0, n_a, n_a), rng.integers(0, n_b, n_b)


def _check_boot(n_boot: int, level: float) -> None:
    if not 1 <= int(n_boot) <= 100_000:
        raise MeasureError(f"n_boot must be in [1, 100000], got {n_boot}")
    if not 0.0 < level < 1.0:
        raise MeasureError(f"level must be in (0, 1), got {level}")


def fad_interval(a: np.ndarray, b: np.ndarray, *, n_boot: int = 200, level: float = 0.95, seed: int = 0,
                 kind: str = "basic", paired: bool = False) -> Interval:
    """FAD with a bootstrap interval: both sets resampled with replacement (jointly when ``paired``), ``seed`` fixed.

    The plug-in FAD is biased upward at small n, and a resample (~63% distinct clips) more so:
    the ``"percentile"`` interval (value: the plug-in FAD) sits above the estimate and, on Gaussians
    with d = n/8..n/4, covered the true FAD in 0 of 40 draws. The default ``"basic"`` interval reflects
    the bootstrap quantiles about the estimate, ``[2F - q_high, 2F - q_low]`` (clipped at 0), with value
    the bias-corrected ``2F - mean(F*)``; it covered the true FAD in 95-100% of draws for d <= n/4
    (78% at d = n/2). With d >= n no interval here is trustworthy: use KAD, or fewer dimensions.
    """
    a, b = _check_pair(a, b)
    _check_boot(n_boot, level)
    if kind not in ("basic", "percentile"):
        raise MeasureError(f"kind must be 'basic' or 'percentile', got {kind!r}")
    rng = np.random.default_rng(seed)
    with few_threads(a.shape[1]):
        draws = []
        for _ in range(n_boot):
            ia, ib = resample_indices(rng, len(a), len(b), paired)
            draws.append(fad(a[ia], b[ib]))
    tail = 100 * (1 - level) / 2
    q_low, q_high = (float(q) for q in np.percentile(draws, [tail, 100 - tail]))
    value = fad(a, b)
    if kind == "percentile":
        return Interval(value, q_low, q_high, level)
    corrected = max(0.0, 2 * value - float(np.mean(draws)))
    return Interval(corrected, max(0.0, 2 * value - q_high), max(0.0, 2 * value - q_low), level)


@dataclass(frozen=True)
class FadInf:
    """FAD extrapolated to infinitely many clips: ``value`` (intercept at 1/n = 0) and ``slope`` of FAD in 1/n."""

    value: float
    slope: float
    sizes: tuple[int, ...]
    fads: tuple[float, ...]

    def __repr__(self) -> str:
        return f"FAD-inf {self.value:.4g} (slope {self.slope:.3g} over n={self.sizes[0]}..{self.sizes[-1]})"

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "slope": self.slope, "sizes": list(self.sizes), "fads": list(self.fads)}


def fad_inf(a: np.ndarray, b: np.ndarray, *, steps: int = 5, repeats: int = 4, min_n: int | None = None,
            seed: int = 0) -> FadInf:
    """fadtk's FAD-inf: mean FAD over ``repeats`` random subsets (without replacement) at ``steps`` sizes
    from ``min_n`` (default half the smaller set) to the full sets, fitted linearly in 1/n; the intercept.

    Both sets are subsampled to the same fraction, so n is the smaller set's subset size.
    """
    a, b = _check_pair(a, b, min_rows=4)
    n_max = min(len(a), len(b))
    min_n = max(2, n_max // 2) if min_n is None else int(min_n)
    if not 2 <= min_n < n_max:
        raise MeasureError(f"min_n must be in [2, {n_max}) for sets of shapes {a.shape} and {b.shape}, got {min_n}")
    if not 2 <= steps <= 100 or not 1 <= repeats <= 1000:
        raise MeasureError(f"steps must be in [2, 100] and repeats in [1, 1000], got {steps} and {repeats}")
    rng = np.random.default_rng(seed)
    sizes = sorted({int(round(n)) for n in np.linspace(min_n, n_max, steps)})
    with few_threads(a.shape[1]):
        fads = [_mean_subset_fad(a, b, n, n_max, repeats, rng) for n in sizes]
    slope, intercept = np.polyfit(1.0 / np.asarray(sizes, np.float64), fads, 1)
    return FadInf(float(intercept), float(slope), tuple(sizes), tuple(fads))


def _mean_subset_fad(a: np.ndarray, b: np.ndarray, n: int, n_max: int, repeats: int,
                     rng: np.random.Generator) -> float:
    """Mean FAD over random subsets (without replacement) of the same fraction n / n_max of both sets."""
    na, nb = max(2, round(n * len(a) / n_max)), max(2, round(n * len(b) / n_max))
    runs = [fad(a[rng.choice(len(a), na, replace=False)], b[rng.choice(len(b), nb, replace=False)])
            for _ in range(repeats if n < n_max else 1)]
    return float(np.mean(runs))
