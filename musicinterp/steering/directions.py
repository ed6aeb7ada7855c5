"""Per-head directions and scales from a store's probe view (shared by ITI and SMITIN)."""

from __future__ import annotations

import torch

from ..probes import ProbeBank, split_indices
from ..store.reader import ProbeView

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
        raise ValueError(f"direction must be 'mass_mean' or 'probe', got {kind!r}")
    d = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    sigma = torch.einsum("ngd,gd->ng", xt, d).std(0)
    return d, sigma

