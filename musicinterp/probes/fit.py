"""Fitting a probe bank: one probe per head (``attn_z``) or per layer (``resid``) of a store's probe view.

* ``logistic``: L2 logistic regression with scikit-learn's objective, every group
  solved at once (:mod:`.logistic`).
* ``linear``: least squares on +/-1 (or continuous) targets over unit-normalised
  features with a small ridge (:mod:`.linear`).

Validation accuracy and AUC per group come from the store's split (the
manifest's, or a grouped stratified one made at collection): one split for
every fit (:func:`split_indices`).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ..data.splits import grouped_stratified_split
from ..errors import InputError
from ..store.reader import ActivationStore, ProbeView
from .bank import ProbeBank, ProbeConfig
from .linear import fit_linear
from .logistic import solve_logistic
from .metrics import batched_auc


def split_indices(view: ProbeView, concept: str, cfg: ProbeConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and validation rows of ``view`` for ``concept``: the store's own split, one source for every fit.

    A store keeps one split per clip (the manifest's ``split`` column, else a
    grouped stratified split made at collection), and every probe, direction
    and monitor uses it. Only a view without one (or whose split leaves no
    labelled row on one side) gets a 4:1 split stratified by ``concept`` and
    grouped by source clip, from ``cfg.val_fraction`` and ``cfg.seed``.
    """
    labels = view.labels[concept]
    idx = torch.nonzero(torch.isfinite(labels)).flatten()
    if view.splits is not None and len(view.splits) == len(labels):
        side = [view.splits[i] for i in idx.tolist()]
        if "train" in side and "val" in side:
            return (idx[torch.tensor([s == "train" for s in side], dtype=torch.bool)],
                    idx[torch.tensor([s == "val" for s in side], dtype=torch.bool)])
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
    if cfg.kind not in ("logistic", "linear"):
        raise InputError(f"unknown probe kind {cfg.kind!r}; use 'logistic' or 'linear'")
    view = source.probe_view(site, pooling) if isinstance(source, ActivationStore) else source
    if concept not in view.labels:
        raise InputError(f"concept {concept!r} is not in this store; it has {', '.join(view.labels)}")
    labels = view.labels[concept]
    binary = set(torch.unique(labels[torch.isfinite(labels)]).tolist()) <= {0.0, 1.0}
    if cfg.kind == "logistic" and not binary:
        raise InputError(f"concept {concept!r} is continuous; use kind='linear'")
    grid = tuple(view.x.shape[1:-1])
    flat = view.x.reshape(view.x.shape[0], -1, view.x.shape[-1])  # (N, G, d), no copy
    tr, va = split_indices(view, concept, cfg)
    dev = torch.device(cfg.device)
    dtype = torch.float64 if cfg.kind == "linear" else torch.float32
    y = labels.to(dev, dtype)
    x_va = flat[va].to(dev, dtype)  # (n_val, G, d)
    solver: dict[str, Any] = {}
    if cfg.kind == "logistic":
        x_tr = flat.transpose(0, 1)[:, tr.to(flat.device)].to(dev, dtype)  # (G, n_train, d): one copy, ours
        fit = solve_logistic(x_tr, y[tr], cfg.C, cfg.max_iter, cfg.tol, overwrite_x=True)
        w, b, train_scores = fit.weight, fit.bias, fit.train_logits
        unconverged = int((~fit.converged).sum())
        solver = {"iterations_max": int(fit.iterations.max()), "unconverged": unconverged}
        if unconverged:
            warnings.warn(f"{unconverged} of {len(fit.converged)} probes for {concept!r} at {site} did not "
                          f"converge in {cfg.max_iter} iterations; raise ProbeConfig.max_iter", stacklevel=2)
    else:
        x_tr, x_va = _unit(flat[tr].to(dev, dtype)), _unit(x_va)
        w, b = fit_linear(x_tr.transpose(0, 1), (2 * y - 1 if binary else y)[tr], cfg.ridge)
        train_scores = torch.einsum("ngd,gd->gn", x_tr, w) + b[:, None]
    val_scores = torch.einsum("ngd,gd->gn", x_va, w) + b[:, None]
    y_tr, y_va = y[tr], y[va]
    if binary:
        val_acc = ((val_scores > 0).to(dtype) == y_va).to(torch.float64).mean(1)
        train_acc = ((train_scores > 0).to(dtype) == y_tr).to(torch.float64).mean(1)
        val_auc = batched_auc(val_scores.cpu(), y_va.cpu())
    else:  # continuous: report R^2 as "accuracy"
        val_acc = 1 - ((val_scores - y_va) ** 2).sum(1) / ((y_va - y_va.mean()) ** 2).sum()
        train_acc = 1 - ((train_scores - y_tr) ** 2).sum(1) / ((y_tr - y_tr.mean()) ** 2).sum()
        val_auc = torch.full((flat.shape[1],), float("nan"))
    meta = _store_meta(source)
    if solver:
        meta["solver"] = solver
    return ProbeBank(site=site, concept=concept, pooling=pooling, grid=grid, weight=w.float().cpu(),
                     bias=b.float().cpu(), val_acc=val_acc.float().cpu(), val_auc=val_auc.float(),
                     train_acc=train_acc.float().cpu(), config=cfg, normalize=cfg.kind == "linear",
                     n_train=len(tr), n_val=len(va), val_logits=val_scores.float().cpu(),
                     val_labels=y_va.float().cpu(), meta=meta)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def _store_meta(source: ActivationStore | ProbeView) -> dict[str, Any]:
    if isinstance(source, ActivationStore):
        return {"store": str(source.root), "model_id": source.meta["model_id"],
                "model_fingerprint": source.meta["model_fingerprint"], "concept_set": source.meta["concept_set"]}
    return {}
