"""Difference-in-means steering (Facchiano et al. 2025): ``v = mean(positive) - mean(negative)`` on the residual stream.

Fitted from the store's running class statistics (frames of clip sets, or
generation steps of prompt sets), so nothing is rescanned. ``lambda * v`` is
added at one layer, a block, or all layers, on both CFG rows by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from ..interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from ..store.reader import ActivationStore
from .base import Prepared, Steerer
from .spec import ApplySpec, Constant, Schedule, StrengthLog


@dataclass
class DiffMeansConfig:
    lam: float = 1.0
    layers: Sequence[int] | str = "all"  # "all", or a list of layers (one layer, a block)
    remove: bool = False


class DiffMeansSteerer(Steerer):
    method = "diffmeans"

    @classmethod
    def fit(cls, store: ActivationStore, concept: str, config: DiffMeansConfig | None = None,
            spec: ApplySpec | None = None) -> DiffMeansSteerer:
        cfg = config or DiffMeansConfig()
        stats = store.stats("resid")
        v = (stats.class_mean(concept, 1) - stats.class_mean(concept, 0)).float()  # (L, d)
        config = asdict(cfg)
        config["layers"] = list(cfg.layers) if not isinstance(cfg.layers, str) else cfg.layers
        return cls(concept=concept, site="resid", tensors={"v": v}, config=config,
                   model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
                   spec=spec or ApplySpec(rows="both"),
                   meta={"store": str(store.root), "stats_rows": store.meta.get("stats_rows")})

    def prepare(self, model: MusicGen, *, strength: float | None = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        self.check_model(model)
        spec = spec or self.spec
        lam = self.config["lam"] if strength is None else strength
        sign = -1.0 if self.config["remove"] else 1.0
        schedule = schedule or Constant()
        chosen = self.config["layers"]
        layers = list(spec.layers) if spec.layers is not None else (
            list(range(self.tensors["v"].shape[0])) if chosen == "all" else list(chosen))
        log = StrengthLog()
        ivs = [Intervention("resid", layer, _add_scaled(sign * self.tensors["v"][layer], lam, schedule, log),
                            rows=spec.rows, steps=spec.window, name=f"diffmeans@L{layer}") for layer in layers]
        return Prepared(interventions=ivs, log=log)


def _add_scaled(v: torch.Tensor, lam: float, schedule: Schedule, log: StrengthLog):
    def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        s = lam * schedule(ctx.step) if ctx.step >= 0 else lam
        log.record(ctx.step, s)
        return x + s * v.to(x.device, x.dtype)
    return edit
