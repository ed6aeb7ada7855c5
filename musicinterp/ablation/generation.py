"""Ablation during generation: layers or heads knocked out at every generated step.

:class:`AblationSpec` builds :class:`~musicinterp.engine.interventions.Intervention`\\ s for
:func:`musicinterp.generate`. ``skip`` removes a whole layer's contribution: in
MusicGen's pre-norm layer ``h = x + attn(.) + cross(.) + mlp(.)`` with bias-free
``out_proj`` and ``fc2``, zeroing ``attn_z``, ``cross_z`` and ``mlp_out`` leaves
exactly ``h = x``: the layer's output is its input (a test checks it against the
teacher-forced skip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..engine.interventions import Intervention, StepWindow, replace
from ..models.musicgen import MusicGen
from ..models.sites import get_site
from .cells import check_heads, check_layers
from .inputs import AblationInputError
from .modes import store_means

GENERATION_MODES = ("zero", "mean", "skip")


@dataclass
class AblationSpec:
    """What to ablate while generating.

    ``heads``: ``(layer, head)`` pairs of a per-head ``site``; ``layers``: whole
    layers of ``site`` (every head), or with ``mode="skip"`` whole decoder layers.
    ``mode``: ``zero``, ``mean`` (from ``store``'s statistics) or ``skip``.
    ``rows``: the CFG rows edited (``"both"`` by default); ``steps``: when.
    """

    mode: str = "mean"
    site: str = "attn_z"
    heads: Sequence[tuple[int, int]] = ()
    layers: Sequence[int] = ()
    store: Any = None
    rows: str = "both"
    steps: StepWindow = field(default_factory=StepWindow)

    def interventions(self, model: MusicGen) -> list[Intervention]:
        """The interventions that carry out this ablation on ``model``."""
        if self.mode not in GENERATION_MODES:
            raise AblationInputError(f"mode must be one of {GENERATION_MODES} during generation, got {self.mode!r} "
                                     f"(resample needs another clip's activations, which generation has not got)")
        if not self.heads and not self.layers:
            raise AblationInputError("give heads= (layer, head) pairs or layers= to ablate")
        layers = check_layers(model, self.layers, "layers")
        if self.mode == "skip":
            if self.heads:
                raise AblationInputError("heads: mode='skip' removes whole layers; give layers= only")
            sites = ["attn_z", "mlp_out"] + (["cross_z"] if model.has_cross_attention else [])
            return [self._zero(s, layer, None) for layer in layers for s in sites]
        targets = resolve_targets(model, self.site, self.heads, self.layers)
        means = store_means(model, self.store, self.site) if self.mode == "mean" else None
        return [self._edit(layer, None if hs is None else list(hs), means) for layer, hs in targets]

    def _zero(self, site: str, layer: int, heads: list[int] | None) -> Intervention:
        shape = (len(heads), 1) if heads is not None else (1,)
        return replace(site, layer, torch.zeros(shape), heads=heads, rows=self.rows, steps=self.steps,
                       positions="all", name=f"ablate-zero@{site}{layer}")

    def _edit(self, layer: int, heads: list[int] | None, means: torch.Tensor | None) -> Intervention:
        if means is None:
            return self._zero(self.site, layer, heads)
        value = means[layer] if heads is None else means[layer][heads]
        return replace(self.site, layer, value, heads=heads, rows=self.rows, steps=self.steps, positions="all",
                       name=f"ablate-mean@{self.site}{layer}")


def resolve_targets(model: MusicGen, site: str, heads: Sequence[tuple[int, int]] = (),
                    layers: Sequence[int] = ()) -> list[tuple[int, tuple[int, ...] | None]]:
    """Checked ``(layer, heads)`` targets of ``site``: whole layers (``None``), then the listed heads per layer."""
    if not heads and not layers:
        raise AblationInputError("give heads= (layer, head) pairs or layers= to ablate or patch")
    layers = check_layers(model, layers, "layers")
    try:
        per_head = get_site(site).per_head
    except ValueError as err:
        raise AblationInputError(f"site: {err}") from None
    if site == "cross_z" and not model.has_cross_attention:
        raise AblationInputError(f"site: model {model.name!r} has no cross-attention, so no cross_z")
    if heads and not per_head:
        raise AblationInputError(f"heads: site {site!r} has no heads; use layers=")
    by_layer: dict[int, list[int]] = {}
    for pair in heads:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise AblationInputError(f"heads: give (layer, head) pairs, got {pair!r}")
        layer = check_layers(model, [pair[0]], "heads")[0]
        by_layer.setdefault(layer, []).extend(check_heads(model, [pair[1]], "heads"))
    out: list[tuple[int, tuple[int, ...] | None]] = [(layer, None) for layer in dict.fromkeys(layers)]
    out += [(layer, tuple(sorted(set(hs)))) for layer, hs in sorted(by_layer.items()) if layer not in layers]
    return out


def ablation_interventions(model: MusicGen, *, mode: str = "mean", site: str = "attn_z",
                           heads: Sequence[tuple[int, int]] = (), layers: Sequence[int] = (), store: Any = None,
                           rows: str = "both", steps: StepWindow | None = None) -> list[Intervention]:
    """Interventions ablating ``heads`` / ``layers`` for ``musicinterp.generate(..., interventions=...)``."""
    spec = AblationSpec(mode=mode, site=site, heads=list(heads), layers=list(layers), store=store, rows=rows,
                        steps=steps or StepWindow())
    return spec.interventions(model)
