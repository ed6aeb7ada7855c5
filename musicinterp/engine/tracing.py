"""Teacher-forced traces over code sequences: read sites, edit sites, get logits.

``trace_codes`` runs one nnsight trace of the full MusicGen forward on
``(B, K, T)`` codes (delay pattern applied for you) and returns what was read.
Inside ``with steerer.apply(model)`` the trace is steered: the active steerers'
edits run at every position at their configured strength (see :mod:`.active`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from ..models.musicgen import Conditioning, MusicGen
from ..models.sites import get_site
from .active import active_edits
from .frames import FrameSpec, select_positions
from .interventions import Intervention, plan


@dataclass
class TraceResult:
    """Activations per site as ``(rows, layers, positions, ...)`` plus logits ``(rows, K, T+K, V)``."""

    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    layers: dict[str, list[int]] = field(default_factory=dict)
    positions: torch.Tensor | None = None
    logits: torch.Tensor | None = None


def _normalise_reads(model: MusicGen, read: Mapping[str, Iterable[int] | None] | Sequence[str] | None
                     ) -> dict[str, list[int]]:
    if read is None:
        return {}
    if not isinstance(read, Mapping):
        read = {site: None for site in read}
    out: dict[str, list[int]] = {}
    for site, layers in read.items():
        get_site(site)
        out[site] = list(range(model.n_layers)) if layers is None else sorted(int(x) for x in layers)
    return out


@torch.no_grad()
def trace_codes(
    model: MusicGen,
    codes: torch.Tensor,
    *,
    cond: Conditioning | None = None,
    read: Mapping[str, Iterable[int] | None] | Sequence[str] | None = None,
    frames: FrameSpec = "all",
    interventions: Sequence[Intervention] = (),
    cfg_rows: bool = False,
    logits: bool = True,
) -> TraceResult:
    """Teacher-forced trace: read ``read`` sites at ``frames``, apply ``interventions``.

    ``read`` maps site -> layers (``None`` = all layers), or is a list of sites.
    With ``cfg_rows`` the batch is doubled (conditional rows, then unconditional).
    Edits read after an edit see the edited value; reads follow execution order.
    Steerers active on ``model`` add their edits after ``interventions``.
    """
    interventions = list(interventions) + active_edits(model)
    codes = model.check_codes(codes)
    reads = _normalise_reads(model, read)
    positions = select_positions(frames, codes.shape[-1], model.n_codebooks)
    inputs = model.forward_inputs(codes, cond, cfg_rows)
    batch = codes.shape[0]
    order = plan(interventions, reads=[(layer, site) for site, layers in reads.items() for layer in layers])

    saved: dict[tuple[str, int], torch.Tensor] = {}
    result = TraceResult(layers=reads, positions=positions)
    pos = positions.to(model.device)
    with model.nn.trace(**inputs):
        for layer, site, edits in order:
            original = model.read_site(site, layer)
            value = original
            for iv in edits:
                value = iv.edit(value, iv.context(-1, batch, cfg_rows))
            if value is not original:
                model.write_site(site, layer, value)
            if layer in reads.get(site, ()):
                saved[(site, layer)] = value.index_select(1, pos).save()
        if logits:
            saved[("logits", -1)] = model.read_logits().save()
    for site, layers in reads.items():
        result.activations[site] = torch.stack([saved[(site, layer)] for layer in layers], dim=1)
    if logits:
        result.logits = saved[("logits", -1)]
    return result
