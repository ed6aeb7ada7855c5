"""One teacher-forced trace that reads every layer of some sites at chosen positions only.

Positions are selected inside the nnsight trace (``index_select`` before
``.save()``), so the padded positions of the delay pattern never leave the
forward pass, each layer's value is kept as its own tensor (no stacked copy), and
the forward stops after the last read (the output heads' logits are never computed).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..models.musicgen import Conditioning, MusicGen
from ..models.sites import execution_key


@torch.no_grad()
def read_layers(model: MusicGen, codes: torch.Tensor, *, sites: Sequence[str], positions: torch.Tensor,
                cond: Conditioning | None = None) -> dict[str, list[torch.Tensor]]:
    """``{site: [(B, P, *site_shape) per layer]}`` at ``positions`` of the delayed decoder sequence."""
    inputs = model.forward_inputs(codes, cond)
    pos = positions.to(model.device)
    order = sorted(((layer, site) for site in sites for layer in range(model.n_layers)),
                   key=lambda ls: execution_key(*ls))
    saved: dict[tuple[str, int], torch.Tensor] = {}
    with model.nn.trace(**inputs) as tracer:
        for layer, site in order:
            saved[(site, layer)] = model.read_site(site, layer).index_select(1, pos).save()
        tracer.stop()  # nothing after the last read is needed: skip the later layers, final norm and logits
    return {site: [saved[(site, layer)] for layer in range(model.n_layers)] for site in sites}
