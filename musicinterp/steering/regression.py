"""Regression-probe residual steering (Panda et al. 2025): norm-relative updates along a linear probe.

A linear probe is fitted with MSE on +/-1 targets over unit-normalised residual
features; ``w`` is its unit weight row. Each steered position becomes
``(h + s * ||h|| * w) / (1 + s)``, on the conditional rows, every ``period`` steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from ..engine.interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from ..probes import ProbeConfig, fit_probe_bank
from .base import Steerer, SteerRun
from .bounded import class_levels, target_of, target_tensors
from .configs import SteererConfig, steerer_config
from .directions import POOLINGS
from .iti import bounded_fn
from .keep import resid_keep
from .spec import ApplySpec


@steerer_config
class RegressionConfig(SteererConfig):
    """Regression-probe settings. ``strength`` is the paper's s: the step along ``w``, relative to ``||h||``.

    Default 0.15 (was the paper's 0.5, outside the comparison's sweep 0.05-0.2): on
    the organism s 0.15 adds drums in every continuation within the limits, while
    s 0.5 breaks validity (README, "Steering matrix"). s must be >= 0 (``remove``
    flips the direction).
    """

    strength: float = 0.15
    layers: Sequence[int] | None = None  # None: the `top_layers` probes with the lowest validation MSE
    top_layers: int = 3
    period: int = 1  # act every `period` generation steps (the paper's p)
    pooling: str = "mean"
    remove: bool = False
    keep: tuple[str, ...] = ()  # concepts whose readouts steering must leave alone (see steering.keep)
    edit: str = "add"  # or "bounded": move the projection on w toward the class level (strength = beta)

    def validate(self) -> None:
        self.at_least("strength", 0)
        self.at_least("top_layers", 1)
        self.at_least("period", 1)
        self.one_of("pooling", POOLINGS)
        if self.layers is not None and (not self.layers or min(self.layers) < 0):
            self.fail("layers", "must be None or a non-empty list of layer indices >= 0")


class RegressionSteerer(Steerer):
    """``strength`` is s: ``h <- (h + s ||h|| w) / (1 + s)``."""

    method = "regression"
    strength_name = "s"
    config_class = RegressionConfig
    required_tensors = ("w",)

    @classmethod
    def fit(cls, store, concept: str, config: RegressionConfig | None = None,
            spec: ApplySpec | None = None, *, keep_store=None) -> RegressionSteerer:
        """Fit the probes on ``store``; kept concepts' directions come from ``keep_store`` when given."""
        config = config or RegressionConfig()
        bank = fit_probe_bank(store, concept, "resid", pooling=config.pooling, config=ProbeConfig(kind="linear"))
        target = 2 * bank.val_labels - 1
        val_mse = (bank.val_logits - target).pow(2).mean(1)  # finer than accuracy, which often ties at 1.0
        layers = list(config.layers) if config.layers is not None else sorted(
            torch.argsort(val_mse)[: config.top_layers].tolist())
        w, tensors, meta = bank.unit_directions(), {}, {}
        if config.keep:
            w, tensors, meta = resid_keep(store, concept, config, w, keep_store, unit=True)
        view = store.probe_view("resid", config.pooling)
        x = view.x.reshape(view.x.shape[0], view.x.shape[1], -1)
        tensors.update(target_tensors(*class_levels(x, view.labels[concept], w)))
        return cls(concept=concept, site="resid", tensors={"w": w, "val_acc": bank.val_acc, "val_mse": val_mse,
                                                          **tensors},
                   config=dataclasses.replace(config, layers=layers), model_fingerprint=store.meta["model_fingerprint"],
                   model_id=store.meta["model_id"], spec=cls.fit_spec(ApplySpec(rows="cond", every=config.period), spec),
                   meta={"store": str(store.root), **meta})

    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        layers = list(run.spec.layers) if run.spec.layers is not None else self.config.layers
        if self.config.edit == "bounded":
            w, target = self.tensors["w"], target_of(self.tensors, self.remove, self.method)
            return [Intervention("resid", layer, bounded_fn(run, w[layer], target[layer], f"L{layer}"), rows=run.rows,
                                 steps=run.window, name=f"regression@L{layer}") for layer in layers]

        def edit_for(layer: int):
            w = run.sign * self.tensors["w"][layer]

            def edit(h: torch.Tensor, ctx: StepContext) -> torch.Tensor:
                s = run.scale(h, ctx)
                return (h + s * h.norm(dim=-1, keepdim=True) * run.cached(f"L{layer}", w, h)) / (1 + s)
            return edit

        return [Intervention("resid", layer, edit_for(layer), rows=run.rows, steps=run.window,
                             name=f"regression@L{layer}") for layer in layers]
