"""Keep-sets: steer one concept while leaving the readouts of kept concepts unchanged to first order.

With the kept concepts' directions ``K`` (one column per concept, per head or
per layer) and ``Q`` an orthonormal basis of their span (from an SVD, so
parallel or vanishing kept directions are handled), a steering direction
becomes ``v' = (I - Q Q^T) v``. An edit along ``v'`` changes no readout
``x . k`` of a kept direction ``k``. Kept directions are the kept concepts'
mass-mean shifts (positive minus negative class mean) at the steerer's site,
taken from the same store or from another store of the same model that labels
them. The cosine between the steering direction and each kept direction is
recorded before and after (:func:`keep_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .configs import SteererConfigError

RANK_TOL = 1e-6  # singular values below this fraction of the largest are dropped from the kept span


def mass_mean_directions(x: torch.Tensor, labels: dict[str, torch.Tensor], concepts: Sequence[str],
                         where: str = "store") -> torch.Tensor:
    """Per group, each concept's mass-mean shift: ``x`` ``(N, G, d)`` -> ``(G, n_concepts, d)``."""
    out = []
    for c in concepts:
        if c not in labels:
            raise SteererConfigError(f"keep: {where} has no labels for {c!r}; it labels {', '.join(sorted(labels))}")
        y = labels[c]
        pos, neg = y == 1, y == 0
        if not bool(pos.any()) or not bool(neg.any()):
            raise SteererConfigError(f"keep: {where} needs clips with and without {c!r} to fit its direction")
        out.append(x[pos].mean(0) - x[neg].mean(0))
    return torch.stack(out, dim=1).float()


def kept_directions(store: Any, site: str, concepts: Sequence[str], pooling: str = "mean",
                    groups: str = "all", model_fingerprint: str | None = None) -> torch.Tensor:
    """The kept concepts' directions at ``site`` from ``store``: ``(G, n_concepts, d)``.

    ``groups="all"``: every layer (resid) or every head (attn_z, ``G = L * H``);
    ``"layer"``: attention heads concatenated per layer (``G = L``).
    """
    if model_fingerprint is not None and store.meta.get("model_fingerprint") != model_fingerprint:
        raise SteererConfigError(f"keep: store {store.root} holds another model's activations "
                                 f"({store.meta.get('model_id')!r})")
    view = store.probe_view(site, pooling)
    x = view.x.float()
    n, n_layers = x.shape[0], x.shape[1]
    x = x.reshape(n, n_layers, -1) if groups == "layer" else x.reshape(n, -1, x.shape[-1])
    return mass_mean_directions(x, view.labels, concepts, where=f"store {store.root}")


def orthonormal_basis(kept: torch.Tensor) -> torch.Tensor:
    """``(G, n, d)`` kept directions -> ``(G, d, n)`` columns spanning them (unused columns are zero)."""
    u, s, _ = torch.linalg.svd(kept.double().transpose(-1, -2), full_matrices=False)  # (G, d, n), (G, n)
    top = s.amax(-1, keepdim=True).clamp_min(1e-30)
    mask = (s > RANK_TOL * top) & (s > 1e-12)
    return u * mask.unsqueeze(-2)


def project_off(v: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``v' = (I - Q Q^T) v`` per group: ``v`` ``(G, d)``, ``kept`` ``(G, n, d)``."""
    q = orthonormal_basis(kept)
    vd = v.double()
    coef = torch.einsum("gdn,gd->gn", q, vd)
    return (vd - torch.einsum("gdn,gn->gd", q, coef)).to(v.dtype)


def cosines(v: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``cos(v_g, k_gj)`` ``(G, n)`` (0 where either vector vanishes)."""
    vd, kd = v.double(), kept.double()
    num = torch.einsum("gd,gnd->gn", vd, kd)
    den = vd.norm(dim=-1, keepdim=True) * kd.norm(dim=-1)
    return torch.where(den > 1e-30, num / den.clamp_min(1e-30), torch.zeros_like(num)).float()


def apply_keep(v: torch.Tensor, kept: torch.Tensor, unit: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``v`` ``(G, d)`` projected off ``kept`` ``(G, n, d)`` (renormalised when ``unit``) and the cosines
    before and after as tensors ``keep_cos_before`` / ``keep_cos_after`` ``(G, n)``."""
    if kept.shape[0] != v.shape[0] or kept.shape[-1] != v.shape[-1]:
        raise SteererConfigError(f"keep: kept directions {tuple(kept.shape)} do not match the steering "
                                 f"directions {tuple(v.shape)} (same site, groups and width needed)")
    new = project_off(v, kept)
    if unit:
        norm = new.norm(dim=-1, keepdim=True)
        if bool((norm < 1e-6 * v.norm(dim=-1, keepdim=True).clamp_min(1e-30)).any()):
            raise SteererConfigError("keep: a steering direction lies in the span of the kept directions "
                                     "(nothing is left to steer along)")
        new = new / norm
    return new, {"keep_cos_before": cosines(v, kept), "keep_cos_after": cosines(new, kept)}


def keep_store_for(store: Any, keep_store: Any) -> Any:
    """The store kept directions are fitted from (``keep_store``, else the steering store)."""
    return store if keep_store is None else keep_store


def check_keep(concept: str, keep: Sequence[str]) -> None:
    if concept in keep:
        raise SteererConfigError(f"keep: cannot keep {concept!r}, the concept being steered")


def keep_report(steerer: Any):
    """One row per (group, kept concept): ``cos_before`` and ``cos_after`` of the steering direction."""
    import pandas as pd

    keep = list(steerer.meta.get("keep", []))
    if not keep or "keep_cos_before" not in steerer.tensors:
        return pd.DataFrame(columns=["group", "kept", "cos_before", "cos_after"])
    before, after = steerer.tensors["keep_cos_before"], steerer.tensors["keep_cos_after"]
    labels = steerer.meta.get("keep_groups") or [str(g) for g in range(before.shape[0])]
    rows = [{"group": labels[g], "kept": c, "cos_before": float(before[g, j]), "cos_after": float(after[g, j])}
            for g in range(before.shape[0]) for j, c in enumerate(keep)]
    return pd.DataFrame(rows)


def resid_keep(store: Any, concept: str, config: Any, v: torch.Tensor, keep_store: Any, unit: bool
               ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, Any]]:
    """Per-layer residual directions ``v`` ``(L, d)`` with ``config.keep`` projected off: ``(v', tensors, meta)``."""
    check_keep(concept, config.keep)
    source = keep_store_for(store, keep_store)
    kept = kept_directions(source, "resid", config.keep, getattr(config, "pooling", "mean"),
                           model_fingerprint=store.meta["model_fingerprint"])
    new, tensors = apply_keep(v, kept, unit=unit)
    meta = {"keep": list(config.keep), "keep_store": str(source.root),
            "keep_groups": [f"L{g}" for g in range(v.shape[0])]}
    return new, tensors, meta
