"""Named places to read or write activations, independent of module paths.

Only the MusicGen adapter maps a site to a module; everything else speaks of sites.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Site:
    """A readable/writable location repeated once per decoder layer.

    ``per_head`` sites are exposed as ``[..., heads, head_dim]``; the others as
    ``[..., d_model]``.
    """

    name: str
    per_head: bool
    description: str


SITES: dict[str, Site] = {
    "attn_z": Site("attn_z", True, "per-head self-attention output, before out_proj"),
    "cross_z": Site("cross_z", True, "per-head cross-attention (text) output, before out_proj"),
    "mlp_out": Site("mlp_out", False, "MLP output (fc2), before the residual add"),
    "resid": Site("resid", False, "residual stream: decoder layer output"),
}

# Order in which the sites are computed inside one decoder layer. Reads and
# writes inside a trace must follow it.
EXECUTION_ORDER: tuple[str, ...] = ("attn_z", "cross_z", "mlp_out", "resid")


def get_site(name: str) -> Site:
    try:
        return SITES[name]
    except KeyError:
        raise InputError(f"unknown site {name!r}; known sites: {', '.join(SITES)}") from None


def execution_key(layer: int, site: str) -> tuple[int, int]:
    """Sort key putting (layer, site) pairs in the order the forward pass reaches them."""
    return (layer, EXECUTION_ORDER.index(site))
