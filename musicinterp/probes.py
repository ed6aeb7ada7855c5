"""Batched probe banks: one classifier per head (``attn_z``) or per layer (``resid``), fitted at once.

* ``logistic``: L2-regularised logistic regression with scikit-learn's objective
  (``C * sum(log-loss) + ||w||^2 / 2``, intercept not penalised), solved for every
  group at once by Newton's method (direct Hessians when the feature size is
  small, batched conjugate gradients otherwise).
* ``linear``: least squares on +/-1 (or continuous) targets over unit-normalised
  features with a small ridge, as in regression-probe steering (Panda et al. 2025).

Validation accuracy and AUC per group come from a 4:1 split stratified by the
label and grouped by source clip.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from . import __version__
from .splits import grouped_stratified_split
from .store.layout import atomic_save_tensors, atomic_write_json
from .store.reader import ActivationStore, ProbeView


@dataclass
class ProbeConfig:
    """How a bank is fitted; every field is recorded with the bank."""

    kind: str = "logistic"  # "logistic" | "linear"
    C: float = 1.0  # inverse L2 strength (logistic), as in scikit-learn
    ridge: float = 1e-3  # ridge for the linear probe, relative to the mean feature power
    max_iter: int = 50
    tol: float = 1e-4  # relative Newton step at which a group counts as converged (float32-appropriate)
    val_fraction: float = 0.2
    seed: int = 0
    direct_max_dim: int = 256  # Newton with explicit Hessians up to this feature size
    device: str = "cpu"


@dataclass
class ProbeBank:
    """Fitted probes for one concept at one site: ``weight (G, d)``, ``bias (G,)`` and validation metrics.

    ``grid`` is ``(layers, heads)`` for head sites and ``(layers,)`` otherwise; groups
    are in layer-major order. Linear probes expect unit-normalised features
    (``normalize=True``); :meth:`decision` applies that for you.
    """

    site: str
    concept: str
    pooling: str
    grid: tuple[int, ...]
    weight: torch.Tensor
    bias: torch.Tensor
    val_acc: torch.Tensor
    val_auc: torch.Tensor
    train_acc: torch.Tensor
    config: ProbeConfig
    normalize: bool
    n_train: int
    n_val: int
    val_logits: torch.Tensor | None = None  # (G, n_val), kept for thresholds
    val_labels: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_groups(self) -> int:
        return int(self.weight.shape[0])

    def accuracy_grid(self) -> torch.Tensor:
        return self.val_acc.reshape(self.grid)

    def auc_grid(self) -> torch.Tensor:
        return self.val_auc.reshape(self.grid)

    def decision(self, x: torch.Tensor) -> torch.Tensor:
        """Logits/scores ``(..., G)`` for features ``(..., G, d)``."""
        x = x.to(self.weight.dtype)
        if self.normalize:
            x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return (x * self.weight).sum(-1) + self.bias

    def unit_directions(self) -> torch.Tensor:
        """Unit-norm weight rows ``(G, d)`` (the probe direction per group)."""
        return self.weight / self.weight.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def best(self, k: int = 1) -> list[tuple[tuple[int, ...], float]]:
        """The ``k`` most accurate groups as (grid index, accuracy)."""
        top = torch.argsort(self.val_acc, descending=True)[:k]
        return [(tuple(int(i) for i in torch.unravel_index(t, self.grid)), float(self.val_acc[t])) for t in top]

    # ------------------------------------------------------------------ io
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        tensors = {"weight": self.weight, "bias": self.bias, "val_acc": self.val_acc, "val_auc": self.val_auc,
                   "train_acc": self.train_acc}
        if self.val_logits is not None:
            tensors.update(val_logits=self.val_logits, val_labels=self.val_labels)
        atomic_save_tensors(folder / "probes.safetensors", tensors)
        atomic_write_json(folder / "probes.json", {
            "site": self.site, "concept": self.concept, "pooling": self.pooling, "grid": list(self.grid),
            "config": asdict(self.config), "normalize": self.normalize, "n_train": self.n_train,
            "n_val": self.n_val, "meta": self.meta, "package_version": __version__})
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ProbeBank:
        folder = Path(folder)
        for name in ("probes.json", "probes.safetensors"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"no probe bank in {folder} (missing {name})")
        info = json.loads((folder / "probes.json").read_text())
        t = load_file(folder / "probes.safetensors")
        return cls(site=info["site"], concept=info["concept"], pooling=info["pooling"], grid=tuple(info["grid"]),
                   weight=t["weight"], bias=t["bias"], val_acc=t["val_acc"], val_auc=t["val_auc"],
                   train_acc=t["train_acc"], config=ProbeConfig(**info["config"]), normalize=info["normalize"],
                   n_train=info["n_train"], n_val=info["n_val"], val_logits=t.get("val_logits"),
                   val_labels=t.get("val_labels"), meta=info["meta"])


# --------------------------------------------------------------------- solvers
def fit_logistic(x: torch.Tensor, y: torch.Tensor, C: float = 1.0, max_iter: int = 50, tol: float = 1e-4,
                 direct_max_dim: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched L2 logistic regression: ``x (G, N, d)``, ``y (N,)`` in {0, 1} -> ``w (G, d)``, ``b (G,)``.

    Minimises ``C * sum_i log(1 + exp(-s_i (w.x_i + b))) + ||w||^2 / 2`` per group
    (scikit-learn's objective) with Newton steps. Features are standardised per
    group first, with the penalty rescaled to match (so the solution is the same),
    which keeps float32 Hessians well conditioned; groups drop out once converged.
    """
    g, n, d = x.shape
    mu = x.mean(1, keepdim=True)
    sd = x.std(1, keepdim=True).clamp_min(1e-6)
    z = (x - mu) / sd
    xa = torch.cat([z, torch.ones(g, n, 1, dtype=x.dtype, device=x.device)], dim=2)  # intercept column
    y = y.to(x.dtype).to(x.device)
    reg = torch.cat([1.0 / (C * sd.squeeze(1) ** 2), torch.zeros(g, 1, dtype=x.dtype, device=x.device)], dim=1)
    theta = torch.zeros(g, d + 1, dtype=x.dtype, device=x.device)
    active = torch.arange(g, device=x.device)
    for _ in range(max_iter):
        xs, th, rg = xa[active], theta[active], reg[active]
        p = torch.sigmoid(torch.bmm(xs, th.unsqueeze(-1)).squeeze(-1))
        grad = torch.bmm(xs.transpose(1, 2), (p - y).unsqueeze(-1)).squeeze(-1) + rg * th
        w = (p * (1 - p)).clamp_min(1e-10)
        if d + 1 <= direct_max_dim:
            hess = torch.bmm(xs.transpose(1, 2), xs * w.unsqueeze(-1))
            hess.diagonal(dim1=1, dim2=2).add_(rg + 1e-8)
            chol, info = torch.linalg.cholesky_ex(hess)
            step = torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
            if bool((info != 0).any()):  # fall back to a damped solve where Cholesky failed
                bad = info != 0
                damped = hess[bad]
                damped.diagonal(dim1=1, dim2=2).add_(1e-4)
                step[bad] = torch.linalg.solve(damped, grad[bad].unsqueeze(-1)).squeeze(-1)
        else:
            def hvp(v: torch.Tensor, xs: torch.Tensor = xs, w: torch.Tensor = w, rg: torch.Tensor = rg) -> torch.Tensor:
                inner = torch.bmm(xs, v.unsqueeze(-1)).squeeze(-1) * w
                return torch.bmm(xs.transpose(1, 2), inner.unsqueeze(-1)).squeeze(-1) + (rg + 1e-8) * v

            step = _batched_cg(hvp, grad, iters=min(d + 1, 100))
        scaled, stuck = _line_search(xs, y, th, step, grad, rg)
        theta[active] = th - scaled
        done = stuck | (step.abs().amax(1) < tol * (1 + th.abs().amax(1)))
        active = active[~done]
        if active.numel() == 0:
            break
    wz, bz = theta[:, :d], theta[:, d]
    w_out = wz / sd.squeeze(1)
    return w_out, bz - (w_out * mu.squeeze(1)).sum(1)


def _objective(xa: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    z = torch.bmm(xa, theta.unsqueeze(-1)).squeeze(-1)
    return (torch.nn.functional.softplus(z) - y * z).sum(1) + 0.5 * (reg * theta * theta).sum(1)


def _line_search(xa, y, theta, step, grad, reg) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group backtracking (Armijo) so every Newton step decreases that group's objective.

    Returns the scaled steps and which groups found no decrease (at the optimum to
    working precision: they take no step and count as converged).
    """
    f0 = _objective(xa, y, theta, reg)
    slope = (grad * step).sum(1)
    slack = 1e-6 * f0.abs() if theta.dtype == torch.float32 else 1e-12 * f0.abs()  # rounding allowance
    t = torch.ones(theta.shape[0], dtype=theta.dtype, device=theta.device)
    ok = torch.zeros_like(t, dtype=torch.bool)
    for _ in range(10):
        f = _objective(xa, y, theta - t[:, None] * step, reg)
        ok = f <= f0 - 1e-4 * t * slope + slack
        if bool(ok.all()):
            break
        t = torch.where(ok, t, t * 0.5)
    t = torch.where(ok, t, torch.zeros_like(t))
    return t[:, None] * step, ~ok


def _batched_cg(matvec, b: torch.Tensor, iters: int, tol: float = 1e-8) -> torch.Tensor:
    """Solve ``A_g x_g = b_g`` for every group by conjugate gradients (A symmetric positive definite)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rs = (r * r).sum(1)
    for _ in range(iters):
        ap = matvec(p)
        alpha = rs / (p * ap).sum(1).clamp_min(1e-30)
        x = x + alpha[:, None] * p
        r = r - alpha[:, None] * ap
        rs_new = (r * r).sum(1)
        if bool((rs_new.sqrt() < tol * (1 + b.norm(dim=1))).all()):
            break
        p = r + (rs_new / rs.clamp_min(1e-30))[:, None] * p
        rs = rs_new
    return x


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


def batched_auc(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ROC AUC per row of ``scores (G, N)`` against binary ``labels (N,)`` (ties count half)."""
    pos, neg = labels == 1, labels == 0
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    if n_pos == 0 or n_neg == 0:
        return torch.full((scores.shape[0],), float("nan"))
    sp, sn = scores[:, pos], scores[:, neg]
    greater = (sp[:, :, None] > sn[:, None, :]).float().sum((1, 2))
    ties = (sp[:, :, None] == sn[:, None, :]).float().sum((1, 2))
    return (greater + 0.5 * ties) / (n_pos * n_neg)


# ------------------------------------------------------------------- fitting
def _groups(view: ProbeView) -> tuple[torch.Tensor, tuple[int, ...]]:
    """(G, N, d) features in layer-major group order and the grid shape."""
    x = view.x  # (N, L, d) or (N, L, H, hd)
    grid = tuple(x.shape[1:-1])
    return x.reshape(x.shape[0], -1, x.shape[-1]).transpose(0, 1).contiguous(), grid


def split_indices(view: ProbeView, concept: str, cfg: ProbeConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and validation rows of ``view`` for ``concept``: 4:1, stratified, grouped by source clip."""
    labels = view.labels[concept]
    idx = torch.nonzero(torch.isfinite(labels)).flatten()
    binary = set(torch.unique(labels[idx]).tolist()) <= {0.0, 1.0}
    strat = labels[idx].tolist() if binary else (labels[idx] > labels[idx].median()).float().tolist()
    split = grouped_stratified_split(strat, [view.groups[i] for i in idx.tolist()], cfg.val_fraction, cfg.seed)
    tr = idx[torch.tensor([s == "train" for s in split], dtype=torch.bool)]
    va = idx[torch.tensor([s == "val" for s in split], dtype=torch.bool)]
    return tr, va


def fit_probe_bank(source: ActivationStore | ProbeView, concept: str, site: str = "attn_z", *,
                   pooling: str = "mean", config: ProbeConfig | None = None) -> ProbeBank:
    """Fit one probe per head/layer of ``site`` for ``concept`` from a store's probe view."""
    cfg = config or ProbeConfig()
    view = source.probe_view(site, pooling) if isinstance(source, ActivationStore) else source
    if concept not in view.labels:
        raise ValueError(f"concept {concept!r} is not in this store; it has {', '.join(view.labels)}")
    labels = view.labels[concept]
    keep = torch.isfinite(labels)
    binary = set(torch.unique(labels[keep]).tolist()) <= {0.0, 1.0}
    if cfg.kind == "logistic" and not binary:
        raise ValueError(f"concept {concept!r} is continuous; use kind='linear'")
    x, grid = _groups(view)
    tr, va = split_indices(view, concept, cfg)
    dev = torch.device(cfg.device)
    xg = x.to(dev, torch.float64 if cfg.kind == "linear" else torch.float32)
    normalize = cfg.kind == "linear"
    if normalize:
        xg = xg / xg.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    y = labels.to(xg.dtype).to(dev)
    if cfg.kind == "logistic":
        w, b = fit_logistic(xg[:, tr], y[tr], cfg.C, cfg.max_iter, cfg.tol, cfg.direct_max_dim)
    elif cfg.kind == "linear":
        target = 2 * y - 1 if binary else y
        w, b = fit_linear(xg[:, tr], target[tr], cfg.ridge)
    else:
        raise ValueError(f"unknown probe kind {cfg.kind!r}; use 'logistic' or 'linear'")
    scores = torch.einsum("gnd,gd->gn", xg, w) + b[:, None]
    thresh = 0.0
    if binary:
        pred = (scores > thresh).to(y.dtype)
        val_acc = (pred[:, va] == y[va]).to(torch.float64).mean(1)
        train_acc = (pred[:, tr] == y[tr]).to(torch.float64).mean(1)
        val_auc = batched_auc(scores[:, va].cpu(), y[va].cpu())
    else:  # continuous: report R^2 as "accuracy"
        resid = ((scores[:, va] - y[va]) ** 2).sum(1)
        val_acc = 1 - resid / ((y[va] - y[va].mean()) ** 2).sum()
        train_acc = 1 - ((scores[:, tr] - y[tr]) ** 2).sum(1) / ((y[tr] - y[tr].mean()) ** 2).sum()
        val_auc = torch.full((x.shape[0],), float("nan"))
    return ProbeBank(site=site, concept=concept, pooling=pooling, grid=grid, weight=w.float().cpu(),
                     bias=b.float().cpu(), val_acc=val_acc.float().cpu(), val_auc=val_auc.float(),
                     train_acc=train_acc.float().cpu(), config=cfg, normalize=normalize, n_train=len(tr),
                     n_val=len(va), val_logits=scores[:, va].float().cpu(), val_labels=y[va].float().cpu(),
                     meta=_store_meta(source))


def _store_meta(source: ActivationStore | ProbeView) -> dict[str, Any]:
    if isinstance(source, ActivationStore):
        return {"store": str(source.root), "model_id": source.meta["model_id"],
                "model_fingerprint": source.meta["model_fingerprint"], "concept_set": source.meta["concept_set"]}
    return {}
