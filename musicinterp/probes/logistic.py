"""Batched L2 logistic regression with scikit-learn's objective, for thousands of small problems at once.

Every group ``g`` minimises ``C * sum_i log(1 + exp(-s_i (w.x_i + b))) + ||w||^2 / 2``
(intercept not penalised), as ``LogisticRegression(C=C)`` does. The solver is
preconditioned nonlinear conjugate gradients with exact line searches:

* features are centred and scaled per group (the penalty rescaled so the solution
  is unchanged), which keeps float32 well conditioned;
* the preconditioner is the group's Hessian at a reference point. At the start
  (all parameters zero, every probability 1/2) it is ``X^T X / 4 + penalty``, so the
  first step is exactly Newton's and, for the many groups whose probabilities stay
  near 1/2, the preconditioner stays nearly exact. A group whose measured curvature
  along its last step falls well below the preconditioner's gets a fresh Hessian,
  which makes its later iterations Newton's;
* a line search costs no pass over the features: the scores move linearly
  (``z + t * X d``), so the one-dimensional problem is solved on them.

An iteration thus reads the features twice (one forward and one backward batched
product) instead of forming ``G`` Hessians (``G x N x d^2``). Groups leave the
working set once converged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import InputError

REFRESH_BELOW = 0.5  # refresh a group's Hessian when curvature along its step is below this fraction of it
REFRESH_AFTER = 10  # ... and at least every this many iterations
_STATE = ("ids", "z", "reg", "theta", "logits", "soft", "chol", "direction", "pg", "g_dot_pg", "fresh", "matched", "age")


@dataclass
class LogisticFit:
    """Solution in the caller's feature space plus how the solve went."""

    weight: torch.Tensor  # (G, d)
    bias: torch.Tensor  # (G,)
    train_logits: torch.Tensor  # (G, N) scores of the training rows
    iterations: torch.Tensor  # (G,) iterations each group ran
    converged: torch.Tensor  # (G,) bool


def fit_logistic(x: torch.Tensor, y: torch.Tensor, C: float = 1.0, max_iter: int = 100,
                 tol: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """``x (G, N, d)``, ``y (N,)`` in {0, 1} -> ``w (G, d)``, ``b (G,)`` (see :func:`solve_logistic`)."""
    fit = solve_logistic(x, y, C, max_iter, tol)
    return fit.weight, fit.bias


def solve_logistic(x: torch.Tensor, y: torch.Tensor, C: float = 1.0, max_iter: int = 100, tol: float = 1e-4, *,
                   overwrite_x: bool = False) -> LogisticFit:
    """Fit every group of ``x (G, N, d)`` (any strides) against labels ``y (N,)``.

    A group has converged when its step (taken or about to be taken) moves no
    standardised parameter by more than ``tol * (1 + max |theta|)`` while its
    preconditioner matches the curvature along the last step within a factor of
    two, or when the line search finds no decrease (the optimum to working
    precision). With ``overwrite_x`` a contiguous ``x`` is standardised in place.
    """
    if x.ndim != 3 or y.shape != (x.shape[1],):
        raise InputError(f"x must be (G, N, d) and y (N,), got x {tuple(x.shape)} and y {tuple(y.shape)}")
    if not C > 0:
        raise InputError(f"C must be positive, got {C}")
    g, n, d = x.shape
    z = x.contiguous()
    if z.data_ptr() == x.data_ptr() and not overwrite_x:
        z = z.clone()
    mu = z.sum(1, keepdim=True) / n
    z.sub_(mu)
    gram = torch.bmm(z.transpose(1, 2), z)
    sd = (gram.diagonal(dim1=1, dim2=2) / max(n - 1, 1)).sqrt()
    sd = torch.where(sd > 0, sd, torch.ones_like(sd))
    z.div_(sd.unsqueeze(1))
    gram.div_(sd.unsqueeze(1) * sd.unsqueeze(2))
    state = _State(z, y.to(z.device, z.dtype), 1.0 / (C * sd**2), gram)
    rounds = torch.zeros(g, dtype=torch.long, device=z.device)
    for _ in range(max_iter):
        rounds[state.ids[state.live]] += 1
        state.step(tol)
        state.compact()
        if state.ids.numel() == 0:
            break
    state.write_back(torch.ones_like(state.live), converged=False)
    w = state.theta_all[:, :d] / sd
    b = state.theta_all[:, d] - (w * mu.squeeze(1)).sum(1)
    return LogisticFit(weight=w, bias=b, train_logits=state.logits_all, iterations=rounds, converged=state.done_all)


class _State:
    """The working set of groups and their iterates (compacted as groups converge)."""

    def __init__(self, z: torch.Tensor, y: torch.Tensor, reg: torch.Tensor, gram: torch.Tensor) -> None:
        g, n, d = z.shape
        dev, dt = z.device, z.dtype
        self.y, self.d, self.z, self.reg = y, d, z, reg
        self.ids = torch.arange(g, device=dev)
        self.theta = torch.zeros(g, d + 1, dtype=dt, device=dev)
        self.logits = torch.zeros(g, n, dtype=dt, device=dev)
        self.soft = torch.full_like(self.logits, math.log(2.0))  # softplus(logits)
        self.theta_all, self.logits_all = self.theta.clone(), self.logits.clone()
        self.done_all = torch.zeros(g, dtype=torch.bool, device=dev)
        self.live = torch.ones(g, dtype=torch.bool, device=dev)
        self.direction, self.pg = torch.zeros_like(self.theta), torch.zeros_like(self.theta)
        self.g_dot_pg = torch.ones(g, dtype=dt, device=dev)
        self.fresh = torch.ones(g, dtype=torch.bool, device=dev)  # preconditioner is the Hessian here
        self.matched = torch.ones(g, dtype=torch.bool, device=dev)  # ... or matched the curvature lately
        self.age = torch.zeros(g, dtype=torch.long, device=dev)
        h0 = torch.zeros(g, d + 1, d + 1, dtype=dt, device=dev)  # the Hessian at zero: p = 1/2 everywhere
        h0[:, :d, :d] = 0.25 * gram
        h0[:, d, d] = 0.25 * n
        self.chol = self._factor(h0, torch.arange(g, device=dev))
        self.want_refresh = torch.zeros(g, dtype=torch.bool, device=dev)

    def _factor(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        d = self.d
        h.diagonal(dim1=1, dim2=2)[:, :d].add_(self.reg[idx])
        jitter = 1e-7 if h.dtype == torch.float32 else 1e-12
        h.diagonal(dim1=1, dim2=2).add_(jitter * h.diagonal(dim1=1, dim2=2).amax(1, keepdim=True))
        chol, info = torch.linalg.cholesky_ex(h)
        if bool((info != 0).any()):  # should not happen (positive penalty); a diagonal bound is a safe fallback
            bad = info != 0
            chol[bad] = torch.diag_embed(h[bad].diagonal(dim1=1, dim2=2).abs().sum(1, keepdim=True).sqrt()
                                         .expand(-1, d + 1))
        return chol

    def refresh(self, which: torch.Tensor) -> None:
        """Exact Hessians (and their Cholesky factors) at the current iterate for groups ``which``."""
        idx = torch.nonzero(which).flatten()
        if idx.numel() == 0:
            return
        zs = self.z[idx] if idx.numel() < self.z.shape[0] else self.z
        p = torch.sigmoid(self.logits[idx])
        wts = p * (1 - p)
        zw = zs * wts.unsqueeze(-1)
        d = self.d
        h = torch.empty(idx.numel(), d + 1, d + 1, dtype=zs.dtype, device=zs.device)
        h[:, :d, :d] = torch.bmm(zw.transpose(1, 2), zs)
        h[:, :d, d] = h[:, d, :d] = zw.sum(1)
        h[:, d, d] = wts.sum(1)
        self.chol[idx] = self._factor(h, idx)
        self.fresh[idx], self.matched[idx], self.age[idx] = True, True, 0

    def step(self, tol: float) -> None:
        """One preconditioned conjugate-gradient step with an exact line search, for every live group."""
        self.refresh(self.live & self.want_refresh)
        d = self.d
        r = torch.sigmoid(self.logits) - self.y  # (G, N)
        grad = torch.cat([torch.bmm(r.unsqueeze(1), self.z).squeeze(1) + self.reg * self.theta[:, :d],
                          r.sum(1, keepdim=True)], dim=1)
        pg = torch.cholesky_solve(grad.unsqueeze(-1), self.chol).squeeze(-1)
        scale = tol * (1 + self.theta.abs().amax(1))
        self.live &= ~(self.matched & (pg.abs().amax(1) <= scale))  # the Newton-like step would be negligible
        g_dot_pg = (grad * pg).sum(1)
        beta = ((grad * (pg - self.pg)).sum(1) / self.g_dot_pg.clamp_min(torch.finfo(grad.dtype).tiny)).clamp_min(0)
        beta = torch.where(self.fresh, torch.zeros_like(beta), beta)  # restart after a refresh
        direction = -pg + beta[:, None] * self.direction
        direction = torch.where(((grad * direction).sum(1) < 0)[:, None], direction, -pg)  # descent only
        q = torch.bmm(direction[:, None, :d], self.z.transpose(1, 2)).squeeze(1) + direction[:, d:]  # row form: faster
        t, curv, soft = _line_search(self.logits, self.soft, q, self.y, self.theta[:, :d], direction[:, :d], self.reg)
        t = torch.where(self.live, t, torch.zeros_like(t))
        move = t[:, None] * direction
        self.theta += move
        self.logits.addcmul_(t[:, None], q)
        self.soft = torch.where(self.live[:, None], soft, self.soft)
        self.direction, self.pg, self.g_dot_pg = direction, pg, g_dot_pg
        d_pd = torch.bmm(self.chol.transpose(1, 2), direction.unsqueeze(-1)).square().sum((1, 2))  # d^T P d
        ratio = curv / d_pd.clamp_min(torch.finfo(d_pd.dtype).tiny)
        self.matched = ratio >= 0.5
        self.fresh.zero_()
        self.age += 1
        small = move.abs().amax(1) <= scale
        finished = self.live & ((small & self.matched) | (t == 0))
        self.live &= ~finished
        self.want_refresh = self.live & ((ratio < REFRESH_BELOW) | (self.age >= REFRESH_AFTER))

    def write_back(self, which: torch.Tensor, converged: bool) -> None:
        ids = self.ids[which]
        self.theta_all[ids] = self.theta[which]
        self.logits_all[ids] = self.logits[which]
        self.done_all[ids] = converged

    def compact(self) -> None:
        """Write back finished groups; shrink the working set once enough of it has finished."""
        finished = ~self.live
        if not bool(finished.any()):
            return
        self.write_back(finished, converged=True)
        if int(self.live.sum()) > 0.6 * self.live.numel():
            return
        keep = self.live
        for name in (*_STATE, "want_refresh"):
            setattr(self, name, getattr(self, name)[keep])
        self.live = self.live[keep]


def _line_search(logits: torch.Tensor, soft: torch.Tensor, q: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                 dw: torch.Tensor, reg: torch.Tensor, iters: int = 2
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Minimise each group's objective along its direction; no pass over the features.

    ``phi(t) = sum softplus(l + t q) - y (l + t q) + reg |w + t dw|^2 / 2`` is convex in
    ``t``; bracketed Newton from ``t = 1`` (the preconditioned step) approaches its
    minimiser. ``soft`` is ``softplus(logits)``. Returns the step per group, the
    curvature ``phi''`` near it, and ``softplus`` of the new logits. A step whose
    objective change (summed per example, so no large totals cancel) is not a
    decrease falls back to the bracket's left end, where ``phi`` is always lower (or
    which is zero: nothing left to gain).
    """
    rw, rd = (reg * w * dw).sum(1), (reg * dw * dw).sum(1)
    yq = torch.einsum("n,gn->g", y, q)
    moments = torch.stack([q, q * q], dim=2)  # (G, N, 2)
    t = torch.ones_like(rw)
    lo, hi = torch.zeros_like(t), torch.full_like(t, float("inf"))
    tiny = torch.finfo(t.dtype).tiny
    curv = rd
    for _ in range(iters):
        p = torch.sigmoid_(torch.addcmul(logits, t[:, None], q))
        pq = torch.bmm(p.unsqueeze(1), moments[:, :, :1]).squeeze(-1).squeeze(-1)
        wts = torch.addcmul(p, p, p, value=-1)  # p (1 - p)
        curv = torch.bmm(wts.unsqueeze(1), moments[:, :, 1:]).squeeze(-1).squeeze(-1) + rd
        d1 = pq - yq + rw + t * rd
        below = d1 < 0
        lo, hi = torch.where(below, t, lo), torch.where(below, hi, t)
        nt = t - d1 / curv.clamp_min(tiny)
        cap = 4 * t.clamp_min(1e-3)
        inside = (nt > lo) & (nt < hi) & (nt <= cap)
        t = torch.where(inside, nt, torch.where(torch.isinf(hi), cap, 0.5 * (lo + hi)))
    new_soft = torch.nn.functional.softplus(torch.addcmul(logits, t[:, None], q))
    change = (new_soft - soft).sum(1) - t * yq + t * rw + 0.5 * t * t * rd
    ok = change <= 0
    t = torch.nan_to_num(torch.where(ok, t, lo), nan=0.0, posinf=0.0)
    if not bool(ok.all()):
        new_soft = torch.where(ok[:, None], new_soft, torch.nn.functional.softplus(torch.addcmul(logits, t[:, None], q)))
    return t, curv, new_soft
