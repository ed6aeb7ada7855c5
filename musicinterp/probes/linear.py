"""Batched ridge regression probes (least squares on +/-1 or continuous targets), as in Panda et al. 2025."""

from __future__ import annotations

import torch


def fit_linear(x: torch.Tensor, y: torch.Tensor, ridge: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched ridge regression ``x (G, N, d)`` -> targets ``y (N,)``: ``w (G, d)``, ``b (G,)``.

    Solved in whichever of the primal (d x d) or dual (N x N) forms is smaller.
    """
    g, n, d = x.shape
    y = y.to(x.dtype).to(x.device)
    xm, ym = x.mean(1, keepdim=True), y.mean()
    xc, yc = x - xm, y - ym
    lam = ridge * (xc * xc).sum((1, 2)) / n  # relative to the mean feature power
    if d <= n:
        a = torch.einsum("gnd,gne->gde", xc, xc)
        a.diagonal(dim1=1, dim2=2).add_(lam[:, None])
        w = torch.linalg.solve(a, torch.einsum("gnd,n->gd", xc, yc).unsqueeze(-1)).squeeze(-1)
    else:
        k = torch.einsum("gnd,gmd->gnm", xc, xc)
        k.diagonal(dim1=1, dim2=2).add_(lam[:, None])
        alpha = torch.linalg.solve(k, yc.expand(g, n).unsqueeze(-1)).squeeze(-1)
        w = torch.einsum("gnd,gn->gd", xc, alpha)
    b = ym - (xm.squeeze(1) * w).sum(1)
    return w, b
