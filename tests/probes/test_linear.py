import numpy as np
import torch
from sklearn.linear_model import LinearRegression

from musicinterp.probes import fit_linear


def test_linear_probe_matches_least_squares():
    g = torch.Generator().manual_seed(2)
    for n, d in ((200, 10), (30, 50)):  # primal and dual forms
        x = torch.randn(3, n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, generator=g, dtype=torch.float64)
        w, b = fit_linear(x, y, ridge=0.0 if n > d else 1e-9)
        if n > d:
            ref = LinearRegression().fit(x[1].numpy(), y.numpy())
            assert np.allclose(w[1].numpy(), ref.coef_, atol=1e-8)
            assert abs(b[1].item() - ref.intercept_) < 1e-8
        else:  # underdetermined: the minimum-norm interpolant
            assert torch.allclose(torch.einsum("nd,d->n", x[1], w[1]) + b[1], y, atol=1e-5)
