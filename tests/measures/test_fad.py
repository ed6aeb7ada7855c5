import numpy as np
import pytest

from musicinterp.errors import MusicInterpError
from musicinterp.measures import MeasureError, fad, fad_inf, fad_interval, frechet_distance, moments


def _random_cov(rng, d):
    m = rng.normal(size=(d, d))
    return m @ m.T / d + 0.1 * np.eye(d)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_diagonal_covariances_match_closed_form(method):
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    v1, v2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    exact = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2), method=method)
    assert abs(got - exact) < 1e-6


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_commuting_covariances_match_closed_form(method):
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    v1, v2 = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    s1, s2 = q @ np.diag(v1) @ q.T, q @ np.diag(v2) @ q.T
    mu = rng.normal(size=5)
    exact = mu @ mu + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert abs(frechet_distance(mu, s1, np.zeros(5), s2, method=method) - exact) < 1e-6


def test_general_covariances_agree_across_methods_and_identity_is_zero():
    rng = np.random.default_rng(2)
    s1, s2 = _random_cov(rng, 8), _random_cov(rng, 8)
    mu = rng.normal(size=8)
    a = frechet_distance(mu, s1, -mu, s2)
    assert abs(a - frechet_distance(mu, s1, -mu, s2, method="sqrtm")) < 1e-6
    assert frechet_distance(mu, s1, mu, s1) < 1e-8
    # one dimension: (mu1 - mu2)^2 + (sigma1 - sigma2)^2
    assert abs(frechet_distance([1.0], [[4.0]], [0.0], [[1.0]]) - 2.0) < 1e-12


def test_singular_covariances_are_finite_for_both_methods():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(10, 20)), rng.normal(size=(10, 20))  # n < d: rank-deficient covariances
    e, s = fad(a, b), fad(a, b, method="sqrtm")
    assert np.isfinite(e) and np.isfinite(s) and abs(e - s) < 1e-3 * e


def test_sample_fad_approaches_the_population_value():
    rng = np.random.default_rng(4)
    s1, s2 = _random_cov(rng, 4), _random_cov(rng, 4)
    mu1, mu2 = np.zeros(4), np.full(4, 0.5)
    exact = frechet_distance(mu1, s1, mu2, s2)
    a = rng.multivariate_normal(mu1, s1, size=40_000)
    b = rng.multivariate_normal(mu2, s2, size=40_000)
    assert abs(fad(a, b) - exact) < 0.02
    m, c = moments(a)
    assert m.shape == (4,) and c.shape == (4, 4)


def test_bootstrap_interval_is_seeded_and_covers_the_truth():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(64, 4)), rng.normal(size=(64, 4)) + 0.5  # true FAD = 4 * 0.25 = 1
    iv = fad_interval(a, b, n_boot=100, seed=3)
    assert iv == fad_interval(a, b, n_boot=100, seed=3)
    assert iv.low <= 1.0 <= iv.high and iv.low <= iv.value <= iv.high
    pct = fad_interval(a, b, n_boot=100, seed=3, kind="percentile")
    assert pct.value == fad(a, b) and pct.low < pct.high
    assert set(iv.to_dict()) == {"value", "low", "high", "level"} and "[" in repr(iv)


def test_fad_inf_removes_most_of_the_small_n_bias():
    rng = np.random.default_rng(6)
    plug, inf = [], []
    for _ in range(20):
        a, b = rng.normal(size=(64, 8)), rng.normal(size=(64, 8)) + 0.5  # true FAD = 8 * 0.25 = 2
        plug.append(fad(a, b))
        res = fad_inf(a, b, repeats=3)
        inf.append(res.value)
    assert np.mean(plug) - 2.0 > 0.5  # the plug-in's bias at n = 64, d = 8
    assert abs(np.mean(inf) - 2.0) < 0.5 * (np.mean(plug) - 2.0)
    assert res.slope > 0 and res.sizes == (32, 40, 48, 56, 64) and res.to_dict()["value"] == res.value


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: fad(np.zeros((5, 3)), np.zeros((5, 4))), ["a and b", "(5, 3)", "(5, 4)"]),
        (lambda: fad(np.zeros(5), np.zeros((5, 4))), ["a must be", "(5,)"]),
        (lambda: fad(np.full((5, 2), np.nan), np.zeros((5, 2))), ["non-finite"]),
        (lambda: frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), ["s1", "(3, 3)"]),
        (lambda: frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), method="x"), ["method"]),
        (lambda: fad_interval(np.zeros((5, 2)), np.zeros((5, 2)), n_boot=0), ["n_boot"]),
        (lambda: fad_inf(np.zeros((5, 2)), np.zeros((5, 2)), min_n=5), ["min_n"]),
    ],
)
def test_errors_name_the_argument(call, words):
    with pytest.raises(MeasureError) as err:
        call()
    assert isinstance(err.value, MusicInterpError) and isinstance(err.value, ValueError)
    assert all(w in str(err.value) for w in words)
