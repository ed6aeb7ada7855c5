import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from musicinterp.probes import fit_logistic, solve_logistic


def _sklearn(x: torch.Tensor, y: torch.Tensor, C: float) -> tuple[np.ndarray, float]:
    """The most precise scikit-learn solver, as a coefficient oracle."""
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=100_000, solver="newton-cholesky").fit(x.double().numpy(), y.numpy())
    return ref.coef_[0], float(ref.intercept_[0])


def test_coefficients_equal_sklearn_in_float64():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 300, 6, generator=g, dtype=torch.float64) * torch.tensor([1, 10, 0.1, 1, 3, 1.0]) + 4
    y = (x[0, :, 0] + 0.5 * torch.randn(300, generator=g, dtype=torch.float64) > 4).double()
    w, b = fit_logistic(x, y, C=0.5, tol=1e-10)
    for k in range(5):
        coef, intercept = _sklearn(x[k], y, 0.5)
        assert np.allclose(w[k].numpy(), coef, rtol=1e-6, atol=1e-7)
        assert abs(b[k].item() - intercept) < 1e-6


def test_float32_separable_and_noise_groups_match_sklearn():
    """Probabilities near 0/1 (the preconditioner refreshes) next to groups with none (it never does)."""
    g = torch.Generator().manual_seed(2)
    n = 400
    y = (torch.arange(n) % 2).float()
    x = torch.randn(3, n, 16, generator=g)
    x[0, :, 0] += 6 * y  # nearly separable: large weights, curvature far below p = 1/2's
    x[1, :, :4] += 0.3 * y[:, None]
    fit = solve_logistic(x, y, C=1.0, tol=1e-6)
    assert bool(fit.converged.all())
    assert fit.iterations[0] > fit.iterations[2]  # the hard group ran longer
    for k in range(3):
        coef, intercept = _sklearn(x[k], y, 1.0)
        scale = np.abs(coef).max()
        assert np.abs(fit.weight[k].numpy() - coef).max() <= 1e-3 * scale
        assert abs(fit.bias[k].item() - intercept) <= 1e-3 * max(1.0, abs(intercept))
    scores = torch.einsum("gnd,gd->gn", x, fit.weight) + fit.bias[:, None]
    assert torch.allclose(fit.train_logits, scores, atol=1e-3)


def test_constant_feature_gets_zero_weight():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 100, 4, generator=g, dtype=torch.float64)
    x[:, :, 2] = 3.0
    y = (x[:, :, 0].mean(0) > 0).double()
    w, b = fit_logistic(x, y, tol=1e-10)
    assert torch.isfinite(w).all() and torch.isfinite(b).all()
    assert torch.all(w[:, 2] == 0)
    coef, intercept = _sklearn(x[1], y, 1.0)
    assert np.allclose(w[1].numpy(), coef, atol=1e-6) and abs(b[1].item() - intercept) < 1e-6


def test_iteration_limit_reports_unconverged():
    g = torch.Generator().manual_seed(4)
    y = (torch.arange(200) % 2).float()
    x = torch.randn(2, 200, 8, generator=g)
    x[0, :, 0] += 5 * y
    fit = solve_logistic(x, y, max_iter=1)
    assert not bool(fit.converged[0]) and int(fit.iterations.max()) == 1


@pytest.mark.parametrize("x, y, C, match", [
    (torch.zeros(3, 5), torch.zeros(5), 1.0, r"x must be \(G, N, d\)"),
    (torch.zeros(2, 5, 3), torch.zeros(4), 1.0, r"y \(N,\)"),
    (torch.zeros(2, 5, 3), torch.zeros(5), 0.0, "C must be positive"),
])
def test_bad_arguments(x, y, C, match):
    with pytest.raises(ValueError, match=match):
        solve_logistic(x, y, C)
