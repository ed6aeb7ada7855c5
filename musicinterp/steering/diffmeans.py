"""Difference-in-means steering (Facchiano et al. 2025): ``v = mean(positive) - mean(negative)`` on the residual stream.

Fitted from the store's running class statistics (frames of clip sets, or
generation steps of prompt sets), so nothing is rescanned. ``lambda * v`` is
added at one layer, a block, or all layers, on both CFG rows by default (``lambda`` is the config's
``strength``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..engine.interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from .base import Steerer, SteerRun
from .bounded import levels_from_means, target_of, target_tensors, unit
from .configs import SteererConfig, steerer_config
from .iti import bounded_fn
from .keep import resid_keep
from .spec import ApplySpec


@steerer_config
class DiffMeansConfig(SteererConfig):
    """Difference-in-means settings. ``strength`` is lambda: multiples of the class-mean difference ``v``.

    Default 2 (was 1, outside the comparison's sweep 1.5-3): on the organism lambda 2
    adds drums and removes bass within the limits (README, "Steering matrix").
    ``lam=`` is accepted as a deprecated name.
    """

    strength: float = 2.0
    layers: Sequence[int] | str = "all"  # "all", or a list of layers (one layer, a block)
    remove: bool = False
    keep: tuple[str, ...] = ()  # concepts whose readouts steering must leave alone (see steering.keep)
    edit: str = "add"  # or "bounded": move the projection on unit v toward the class level (strength = beta)

    legacy_names = {"lam": "strength"}

    def validate(self) -> None:
        if isinstance(self.layers, str):
            self.one_of("layers", ("all",))
        elif not self.layers or min(self.layers) < 0:
            self.fail("layers", "must be 'all' or a non-empty list of layer indices >= 0")


class DiffMeansSteerer(Steerer):
    """``strength`` is lambda: multiples of ``v`` (the paper sweeps 0 to 1.5)."""

    method = "diffmeans"
    strength_name = "lambda"
    config_class = DiffMeansConfig
    required_tensors = ("v",)

    @classmethod
    def fit(cls, store, concept: str, config: DiffMeansConfig | None = None,
            spec: ApplySpec | None = None, *, keep_store=None) -> DiffMeansSteerer:
        """Fit from ``store``'s class statistics; kept concepts' directions come from ``keep_store`` when given."""
        config = config or DiffMeansConfig()
        stats = store.stats("resid")
        pos, neg = stats.class_mean(concept, 1).float(), stats.class_mean(concept, 0).float()
        v = pos - neg  # (L, d)
        tensors, meta = {}, {}
        if config.keep:
            v, tensors, meta = resid_keep(store, concept, config, v, keep_store, unit=False)
        tensors.update(target_tensors(*levels_from_means(pos, neg, unit(v))))
        return cls(concept=concept, site="resid", tensors={"v": v, **tensors}, config=config,
                   model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
                   spec=cls.fit_spec(ApplySpec(rows="both"), spec),
                   meta={"store": str(store.root), "stats_rows": store.meta.get("stats_rows"), **meta})

    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        chosen = self.config.layers
        layers = list(run.spec.layers) if run.spec.layers is not None else (
            list(range(self.tensors["v"].shape[0])) if chosen == "all" else list(chosen))

        if self.config.edit == "bounded":
            v, target = unit(self.tensors["v"]), target_of(self.tensors, self.remove, self.method)
            return [Intervention("resid", layer, bounded_fn(run, v[layer], target[layer], f"L{layer}"), rows=run.rows,
                                 steps=run.window, name=f"diffmeans@L{layer}") for layer in layers]

        def edit_for(layer: int):
            v = run.sign * self.tensors["v"][layer]

            def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
                return x + run.scale(x, ctx) * run.cached(f"L{layer}", v, x)
            return edit

        return [Intervention("resid", layer, edit_for(layer), rows=run.rows, steps=run.window,
                             name=f"diffmeans@L{layer}") for layer in layers]
