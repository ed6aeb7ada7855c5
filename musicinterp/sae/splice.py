"""Between a site's live value and an SAE's input: reshape, and the splice/zero interventions.

Per-head sites arrive as ``(..., H, head_dim)``: a flattened SAE sees
``(..., H * head_dim)``; a one-head SAE is addressed with ``heads=[h]`` and
sees ``(..., head_dim)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ..engine.interventions import Intervention, StepContext
from .artifact import SAE


def to_sae(x: torch.Tensor, sae: SAE) -> torch.Tensor:
    """A site slice -> the SAE's input layout ``(..., d_in)``."""
    if sae.site in ("attn_z", "cross_z"):
        return x[..., 0, :] if sae.head is not None else x.reshape(*x.shape[:-2], -1)
    return x


def from_sae(v: torch.Tensor, like: torch.Tensor, sae: SAE) -> torch.Tensor:
    """The SAE's layout back to the site slice's shape and dtype."""
    if sae.site in ("attn_z", "cross_z"):
        v = v.unsqueeze(-2) if sae.head is not None else v.reshape(like.shape)
    return v.to(like.dtype)


def site_kwargs(sae: SAE) -> dict[str, Any]:
    return {"heads": [sae.head]} if sae.head is not None else {}


def edit_positions(sae: SAE, fn: Callable[[torch.Tensor], torch.Tensor], positions: torch.Tensor | None,
                   name: str) -> Intervention:
    """An intervention replacing ``positions`` (all when ``None``) of the SAE's site by ``fn(sae_input)``."""

    def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        sel = x if positions is None else x[:, positions.to(x.device)]
        new = from_sae(fn(to_sae(sel, sae)), sel, sae)
        if positions is None:
            return new
        out = x.clone()
        out[:, positions.to(x.device)] = new
        return out

    return Intervention(sae.site, sae.layer, edit, name=name, **site_kwargs(sae))


def splice(sae: SAE, positions: torch.Tensor | None = None) -> Intervention:
    """Replace the activation by the SAE's reconstruction (what SAELens calls splicing the SAE in)."""
    return edit_positions(sae, sae.reconstruct, positions, f"sae-splice@{sae.site}{sae.layer}")


def zero_ablate(sae: SAE, positions: torch.Tensor | None = None) -> Intervention:
    """Replace the activation by zeros (the baseline of the spliced scores)."""
    return edit_positions(sae, torch.zeros_like, positions, f"zero@{sae.site}{sae.layer}")
