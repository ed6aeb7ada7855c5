"""Difference-in-means steering (Facchiano et al. 2025): ``v = mean(positive) - mean(negative)`` on the residual stream.

Fitted from the store's running class statistics (frames of clip sets, or
generation steps of prompt sets), so nothing is rescanned. ``lambda * v`` is
added at one layer, a block, or all layers, on both CFG rows by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from ..engine.interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from .base import Steerer, SteerRun
from .spec import ApplySpec


@dataclass
class DiffMeansConfig:
    lam: float = 1.0  # lambda: multiples of the class-mean difference
    layers: Sequence[int] | str = "all"  # "all", or a list of layers (one layer, a block)
    remove: bool = False


class DiffMeansSteerer(Steerer):
    """``strength`` is lambda: multiples of ``v`` (the paper sweeps 0 to 1.5)."""

    method = "diffmeans"
    strength_name = "lambda"
    strength_key = "lam"
    required_tensors = ("v",)

    @classmethod
    def fit(cls, store, concept: str, config: DiffMeansConfig | None = None,
            spec: ApplySpec | None = None) -> DiffMeansSteerer:
        config = config or DiffMeansConfig()
        stats = store.stats("resid")
        v = (stats.class_mean(concept, 1) - stats.class_mean(concept, 0)).float()  # (L, d)
        saved = asdict(config)
        saved["layers"] = list(config.layers) if not isinstance(config.layers, str) else config.layers
        return cls(concept=concept, site="resid", tensors={"v": v}, config=saved,
                   model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
                   spec=spec or ApplySpec(rows="both"),
                   meta={"store": str(store.root), "stats_rows": store.meta.get("stats_rows")})

    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        chosen = self.config["layers"]
        layers = list(run.spec.layers) if run.spec.layers is not None else (
            list(range(self.tensors["v"].shape[0])) if chosen == "all" else list(chosen))

        def edit_for(layer: int):
            v = run.sign * self.tensors["v"][layer]

            def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
                return x + run.scale(x, ctx) * run.cached(f"L{layer}", v, x)
            return edit

        return [Intervention("resid", layer, edit_for(layer), rows=run.rows, steps=run.window,
                             name=f"diffmeans@L{layer}") for layer in layers]
