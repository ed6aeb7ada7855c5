import numpy as np
import pytest

from musicinterp.measures import MeasureError, kad, kad_interval, median_bandwidth


def _hand_mmd2(x, y, h):
    def k(p, q):
        return np.exp(-np.sum((p - q) ** 2) / (2 * h * h))

    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2 * kxy


def test_matches_hand_computed_mmd2_on_three_plus_three_points():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([[1.0, 1.0], [3.0, 0.0], [2.0, 2.0]])
    pooled = np.concatenate([x, y])
    dists = [np.linalg.norm(pooled[i] - pooled[j]) for i in range(6) for j in range(i + 1, 6)]
    h = float(np.median(dists))
    assert abs(median_bandwidth(x, y) - h) < 1e-12
    assert abs(kad(x, y) - _hand_mmd2(x, y, h)) < 1e-12
    assert abs(kad(x, y, bandwidth=0.7) - _hand_mmd2(x, y, 0.7)) < 1e-12


def test_unbiased_mean_is_zero_while_biased_is_positive():
    rng = np.random.default_rng(0)
    unbiased, biased = [], []
    for _ in range(300):
        a, b = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
        unbiased.append(kad(a, b, bandwidth=1.5))
        biased.append(kad(a, b, bandwidth=1.5, unbiased=False))
    se = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * se
    assert np.mean(biased) > 10 * np.std(biased) / np.sqrt(len(biased))
    assert min(unbiased) < 0  # an unbiased estimate of 0 goes negative


def test_separates_shifted_sets_and_interval_is_seeded():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 1.0
    iv = kad_interval(a, b, n_boot=100, seed=2)
    assert iv == kad_interval(a, b, n_boot=100, seed=2)
    assert 0 < iv.low <= iv.value <= iv.high
    same = kad_interval(a[:20], a[20:], n_boot=100, seed=2)
    assert same.low <= 0 <= same.high


def test_errors():
    with pytest.raises(MeasureError, match="bandwidth"):
        kad(np.zeros((3, 2)), np.ones((3, 2)), bandwidth=-1)
    with pytest.raises(MeasureError, match="median pairwise distance"):
        kad(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(MeasureError, match=r"\(3, 2\)"):
        kad(np.zeros((3, 2)), np.zeros((3, 5)))


def test_paired_bootstrap_resamples_rows_together():
    from musicinterp.measures import fad_interval

    rng = np.random.default_rng(3)
    a = rng.normal(size=(30, 3))
    b = a + rng.normal(scale=0.05, size=(30, 3))  # row i of b is row i of a, slightly moved
    paired, unpaired = kad_interval(a, b, n_boot=100, paired=True), kad_interval(a, b, n_boot=100)
    assert paired.high - paired.low < unpaired.high - unpaired.low
    assert fad_interval(a, b, n_boot=50, paired=True).high >= 0
    with pytest.raises(MeasureError, match="30 and 29"):
        kad_interval(a, b[:29], paired=True)
