"""Intervals and verdicts: every rate and difference of a comparison with its 95% interval.

* A rate from ``n`` examples gets a Wilson score interval (undecided examples,
  NaN, are left out of ``n``).
* A steered-against-unsteered difference (success gain, collateral) gets a paired
  bootstrap interval over prompts: prompt ``i`` of every setting shares the
  baseline's sampling noise, so prompts are resampled with their pairs kept.
* A setting's verdict is *pass* when every limit holds with its interval clear of
  it, *fail* when some interval lies wholly on the wrong side, else *undecided*
  (the interval straddles a limit: more prompts would tell).
"""

from __future__ import annotations

import math

import numpy as np

from ..judges.base import Limits  # noqa: F401  (the limits a verdict reads)

Z95 = 1.959963984540054
N_BOOT = 2000
HALFWIDTH_TARGET = 0.05  # the collateral interval a decisive matrix needs: +/- 5 points
MIN_DECIDED, MIN_DECIDED_SHARE = 8, 0.10  # a collateral judge's rate needs this many decided prompts per side


def min_decided(n: int) -> int:
    """Decided prompts (of ``n``) a collateral judge needs on each side before its change counts as a move (never
    more than half of them, so a small run's judges count where they decide on most prompts)."""
    return min(max(MIN_DECIDED, math.ceil(MIN_DECIDED_SHARE * n)), math.ceil(n / 2))


def wilson(present: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """``(rate, low, high)`` of a 0/1 array (NaN = undecided, left out); all NaN when nothing is decided."""
    x = np.asarray(present, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    p = float(x.mean())
    return (p, *wilson_bounds(p, n, z))


def wilson_bounds(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval ``(low, high)`` of a rate ``p`` observed on ``n`` examples."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rates(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Rates of ``values`` ``(J, n)`` over each resample ``idx`` ``(B, n)``, NaN left out: ``(J, B)``."""
    picked = values[:, idx]  # (J, B, n)
    decided = ~np.isnan(picked)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(decided, picked, 0.0).sum(-1) / decided.sum(-1)


def resamples(n: int, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """``(n_boot, n)`` prompt indices drawn with replacement (fixed seed: intervals are reproducible)."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def max_move(steered: np.ndarray, base: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """Largest |rate change| over judges ``(J, n)`` (steered vs unsteered, paired by prompt), per resample."""
    if steered.shape[0] == 0:
        return np.zeros(1 if idx is None else idx.shape[0])
    idx = np.arange(steered.shape[1])[None] if idx is None else idx
    moves = np.abs(_rates(steered, idx) - _rates(base, idx))  # (J, B)
    moves = np.where(np.isnan(moves), -np.inf, moves)  # a judge deciding nothing on one side shows no move
    out = moves.max(0)
    return np.where(np.isinf(out), 0.0, out)


def percentile_interval(samples: np.ndarray) -> tuple[float, float]:
    """The central 95% of bootstrap ``samples`` (NaN left out)."""
    s = samples[~np.isnan(samples)]
    if s.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(s, [2.5, 97.5])
    return float(lo), float(hi)


def paired_difference(steered: np.ndarray, base: np.ndarray, idx: np.ndarray) -> tuple[float, float, float]:
    """``(difference, low, high)`` of two 0/1 arrays' rates, paired by prompt, bootstrap interval over ``idx``."""
    point = float(_rates(steered[None], np.arange(steered.size)[None])[0, 0]
                  - _rates(base[None], np.arange(base.size)[None])[0, 0])
    lo, hi = percentile_interval((_rates(steered[None], idx) - _rates(base[None], idx))[0])
    return point, lo, hi


def verdict(row: dict, limits: Limits) -> str:
    """``"pass"``, ``"fail"`` or ``"undecided"`` from a row's intervals (see the module docstring)."""
    checks = [(row["success_lo"], row["success_hi"], limits.min_success, ">=")]
    if row.get("validity_lo") is not None and not math.isnan(row["validity_lo"]):
        checks.append((row["validity_lo"], row["validity_hi"], limits.min_validity, ">="))
    checks.append((row["collateral_lo"], row["collateral_hi"], limits.max_collateral, "<="))
    if any(math.isnan(lo) for lo, _, _, _ in checks):
        return "undecided"
    clear = all(lo >= bar if op == ">=" else hi <= bar for lo, hi, bar, op in checks)
    wrong = any(hi < bar if op == ">=" else lo > bar for lo, hi, bar, op in checks)
    return "pass" if clear else "fail" if wrong else "undecided"


def n_for_halfwidth(low: float, high: float, n: int, target: float = HALFWIDTH_TARGET) -> int | None:
    """Prompts needed for an interval of half-width ``target``, from one of half-width (high-low)/2 at ``n``
    (half-widths shrink as 1/sqrt(n): quadrupling n halves them)."""
    half = (high - low) / 2
    if math.isnan(half) or n <= 0:
        return None
    return max(n, math.ceil(n * (half / target) ** 2))


def n_to_clear(rate: float, bar: float, z: float = Z95, cap: int = 10**7) -> int | None:
    """The fewest examples at which a Wilson interval around ``rate`` lies wholly above ``bar`` (``rate`` > bar)
    or wholly below it (``rate`` < bar); ``None`` when ``rate`` sits on the bar or it needs more than ``cap``."""
    if math.isnan(rate) or rate == bar:
        return None
    above = rate > bar

    def clear(n: int) -> bool:
        lo, hi = wilson_bounds(rate, n, z)
        return lo >= bar if above else hi <= bar

    high = 1
    while not clear(high):
        high *= 2
        if high > cap:
            return None
    low = high // 2  # clear(low) is False (or low = 0)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if clear(mid) else (mid, high)
    return high


def n_to_decide(row: dict, limits: Limits) -> int | None:
    """Prompts an undecided row needs before every interval clears its limit, if its point values held: Wilson
    intervals for success and validity (:func:`n_to_clear`), the collateral's bootstrap half-width shrinking as
    1/sqrt(n) from the row's ``n``. ``None`` when some point value is on the wrong side of its limit (more prompts
    would decide it a fail) or on it."""
    n = int(row["n"])
    needs = [n_to_clear(row["success"], limits.min_success)]
    if row.get("validity") is not None and not math.isnan(row["validity"]):
        needs.append(n_to_clear(row["validity"], limits.min_validity))
    margin = limits.max_collateral - row["collateral"]
    half = row["collateral_hi"] - row["collateral"]
    needs.append(None if margin <= 0 else n if half <= margin else math.ceil(n * (half / margin) ** 2))
    rates_wrong = row["success"] < limits.min_success or (
        row.get("validity") is not None and row["validity"] < limits.min_validity)
    if rates_wrong or any(x is None for x in needs):
        return None
    return max(n, *needs)
