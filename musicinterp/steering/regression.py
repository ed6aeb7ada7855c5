"""Regression-probe residual steering (Panda et al. 2025): norm-relative updates along a linear probe.

A linear probe is fitted with MSE on +/-1 targets over unit-normalised residual
features; ``w`` is its unit weight row. Each steered position becomes
``(h + s * ||h|| * w) / (1 + s)``, on the conditional rows, every ``period`` steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from ..interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from ..probes import ProbeConfig, fit_probe_bank
from ..store.reader import ActivationStore
from .base import Prepared, Steerer
from .spec import ApplySpec, Constant, Schedule, StrengthLog


@dataclass
class RegressionConfig:
    s: float = 0.5
    layers: Sequence[int] | None = None  # None: the `top_layers` probes with the lowest validation MSE
    top_layers: int = 3
    period: int = 1
    pooling: str = "mean"
    remove: bool = False


class RegressionSteerer(Steerer):
    method = "regression"

    @classmethod
    def fit(cls, store: ActivationStore, concept: str, config: RegressionConfig | None = None,
            spec: ApplySpec | None = None) -> RegressionSteerer:
        cfg = config or RegressionConfig()
        bank = fit_probe_bank(store, concept, "resid", pooling=cfg.pooling, config=ProbeConfig(kind="linear"))
        target = 2 * bank.val_labels - 1
        val_mse = (bank.val_logits - target).pow(2).mean(1)  # finer than accuracy, which often ties at 1.0
        layers = list(cfg.layers) if cfg.layers is not None else sorted(
            torch.argsort(val_mse)[: cfg.top_layers].tolist())
        config = asdict(cfg)
        config["layers"] = layers
        return cls(concept=concept, site="resid", tensors={"w": bank.unit_directions(), "val_acc": bank.val_acc,
                                                          "val_mse": val_mse},
                   config=config, model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
                   spec=spec or ApplySpec(rows="cond", every=cfg.period), meta={"store": str(store.root)})

    def prepare(self, model: MusicGen, *, strength: float | None = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        self.check_model(model)
        spec = spec or self.spec
        s = self.config["s"] if strength is None else strength
        sign = -1.0 if self.config["remove"] else 1.0
        schedule = schedule or Constant()
        layers = list(spec.layers) if spec.layers is not None else self.config["layers"]
        log = StrengthLog()
        ivs = [Intervention("resid", layer, _norm_relative(sign * self.tensors["w"][layer], s, schedule, log),
                            rows=spec.rows, steps=spec.window, name=f"regression@L{layer}") for layer in layers]
        return Prepared(interventions=ivs, log=log)


def _norm_relative(w: torch.Tensor, s: float, schedule: Schedule, log: StrengthLog):
    def edit(h: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        st = s * schedule(ctx.step) if ctx.step >= 0 else s
        log.record(ctx.step, st)
        return (h + st * h.norm(dim=-1, keepdim=True) * w.to(h.device, h.dtype)) / (1 + st)
    return edit
