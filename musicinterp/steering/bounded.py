"""Bounded (affine) edits: move an activation's projection on a direction toward a class level.

With unit direction ``v`` and target level ``m`` (the positive class's mean
projection to add the concept, the negative class's to remove it),

    x' = x + beta (m - x . v) v

where ``beta`` is the steerer's strength (a fraction: 1 lands exactly on the
level; above 1 overshoots it on purpose). An activation that already carries
the concept at level ``m`` is left alone, so the edit cannot overshoot there;
removal with ``beta = 1`` is directional ablation to the negative-class level.
Several directions in one space (SAE features) move together toward the affine
set ``{x : D x = m}``: ``x' = x + beta ((m - D x)^T (D D^T)^+ D)``.
"""

from __future__ import annotations

import torch

from .configs import SteererConfigError


def unit(v: torch.Tensor) -> torch.Tensor:
    """``v`` normalised along its last dimension."""
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def class_levels(x: torch.Tensor, y: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean projection of each class on unit ``v``: ``x`` ``(N, G, d)``, ``v`` ``(G, d)`` -> two ``(G,)``."""
    pos, neg = y == 1, y == 0
    if not bool(pos.any()) or not bool(neg.any()):
        raise SteererConfigError("bounded edit: the store needs clips with and without the concept for its levels")
    proj = torch.einsum("ngd,gd->ng", x.float(), v.float())
    return proj[pos].mean(0), proj[neg].mean(0)


def levels_from_means(pos_mean: torch.Tensor, neg_mean: torch.Tensor, v: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Class levels from class means ``(G, d)`` on unit ``v`` ``(G, d)`` (projection is linear)."""
    return (pos_mean.float() * v.float()).sum(-1), (neg_mean.float() * v.float()).sum(-1)


def target_tensors(pos: torch.Tensor, neg: torch.Tensor) -> dict[str, torch.Tensor]:
    """The fitted levels as stored in a steerer."""
    return {"target_pos": pos.float().clone(), "target_neg": neg.float().clone()}


def target_of(tensors: dict[str, torch.Tensor], remove: bool, method: str) -> torch.Tensor:
    """The level an edit moves toward: the negative class's to remove, else the positive class's."""
    key = "target_neg" if remove else "target_pos"
    if key not in tensors:
        raise SteererConfigError(f"{method}: edit='bounded' needs fitted levels ({key}); refit this steerer")
    return tensors[key]


def bounded_edit(x: torch.Tensor, v: torch.Tensor, target: torch.Tensor, beta: torch.Tensor | float,
                 weight: torch.Tensor | None = None) -> torch.Tensor:
    """``x + beta * w * (m - x . v) v`` with ``v`` ``(..., d)`` unit and ``target``/``weight`` shaped like
    ``v`` without its last dimension (all broadcast against ``x``'s trailing dimensions)."""
    proj = (x * v).sum(-1, keepdim=True)
    gap = target.unsqueeze(-1) - proj
    if weight is not None:
        gap = gap * weight.unsqueeze(-1)
    return x + beta * gap * v


def joint_map(dirs: torch.Tensor) -> torch.Tensor:
    """``(D D^T)^+ D`` for directions ``D`` ``(n, d)`` sharing one space (the affine edit's map)."""
    d = dirs.double()
    return (torch.linalg.pinv(d @ d.T) @ d).to(dirs.dtype)


def joint_edit(x: torch.Tensor, dirs: torch.Tensor, target: torch.Tensor, mapped: torch.Tensor,
               beta: torch.Tensor | float) -> torch.Tensor:
    """``x + beta ((m - x D^T) (D D^T)^+ D)``: ``x`` ``(..., d)``, ``dirs`` ``(n, d)``, ``target`` ``(n,)``,
    ``mapped`` from :func:`joint_map`."""
    return x + beta * ((target - x @ dirs.T) @ mapped)
