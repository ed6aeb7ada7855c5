"""Per-head directions and scales from a store's probe view (shared by ITI and SMITIN)."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import InputError
from ..probes import ProbeBank, split_indices
from ..store.reader import ProbeView
from .bounded import class_levels, target_tensors
from .keep import apply_keep, check_keep, keep_store_for, kept_directions

DIRECTIONS = ("mass_mean", "probe")  # how a head's direction is taken
POOLINGS = ("mean", "last")  # probe frame policies a store's probe view offers


def head_directions(view: ProbeView, bank: ProbeBank, concept: str, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit directions ``(G, hd)`` and the std of training activations along them ``(G,)``.

    ``kind="mass_mean"``: mean(positive) - mean(negative) of the training split;
    ``kind="probe"``: the probe's weight row. Both point toward the positive class.
    """
    x = view.x.reshape(view.x.shape[0], -1, view.x.shape[-1]).float()  # (N, G, hd)
    y = view.labels[concept]
    tr, _ = split_indices(view, concept, bank.config)
    xt, yt = x[tr], y[tr]
    if kind == "mass_mean":
        d = xt[yt == 1].mean(0) - xt[yt == 0].mean(0)
    elif kind == "probe":
        d = bank.weight.float()
    else:
        raise InputError(f"direction must be 'mass_mean' or 'probe', got {kind!r}")
    d = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    sigma = torch.einsum("ngd,gd->ng", xt, d).std(0)
    return d, sigma


def precise_head_directions(view: ProbeView, bank: ProbeBank, concept: str, config: Any, keep_store: Any = None,
                            store: Any = None) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor],
                                                        dict[str, Any]]:
    """:func:`head_directions` with the config's keep-set projected off (sigma re-measured along the new
    directions), plus the fitted class levels for bounded edits: ``(dirs, sigma, tensors, meta)``."""
    dirs, sigma = head_directions(view, bank, concept, config.direction)
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    x = view.x.reshape(view.x.shape[0], -1, view.x.shape[-1]).float()  # (N, G, hd)
    if config.keep:
        check_keep(concept, config.keep)
        source = keep_store_for(store, keep_store)
        kept = kept_directions(source, "attn_z", config.keep, config.pooling,
                               model_fingerprint=store.meta["model_fingerprint"])
        dirs, tensors = apply_keep(dirs, kept, unit=True)
        tr, _ = split_indices(view, concept, bank.config)
        sigma = torch.einsum("ngd,gd->ng", x[tr], dirs).std(0)
        n_heads = bank.grid[1]
        meta = {"keep": list(config.keep), "keep_store": str(source.root),
                "keep_groups": [f"L{g // n_heads}H{g % n_heads}" for g in range(dirs.shape[0])]}
    tensors.update(target_tensors(*class_levels(x, view.labels[concept], dirs)))
    return dirs, sigma, tensors, meta

