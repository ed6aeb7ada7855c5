"""SMITIN (Koo et al. 2024): soft-weighted, self-monitored, time-sparse head intervention.

Every head is steered along its unit probe direction, weighted by
``((acc - min) / (max - min)) ** power`` of its validation accuracy, every
``interval`` steps. SMITIN is these soft weights plus the self-monitoring
schedule (:class:`~musicinterp.steering.monitor.ProbeMonitor`, usable by every
method): with ``reading`` the median probe probability over the most accurate
heads, strength is full during the warm-up, ``strength * (1 - reading / tau)``
while ``reading < tau``, and zero once the trait is present. Removing a trait
flips the direction and the monitor.
"""

from __future__ import annotations

import dataclasses

import torch

from ..engine.interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from ..probes import ProbeConfig, fit_probe_bank
from .base import Steerer, SteerRun, clamp_with_warning
from .bounded import target_of
from .calibration import MonitorCalibration, calibrate_monitor
from .configs import SteererConfig, steerer_config
from .directions import DIRECTIONS, POOLINGS, precise_head_directions
from .iti import bounded_fn
from .monitor import ProbeMonitor, derive_tau
from .spec import ApplySpec, Schedule


@steerer_config
class SMITINConfig(SteererConfig):
    """SMITIN settings. ``strength`` is alpha (x each head's std, times its soft weight).

    Default 20 (was the paper's 5, outside the comparison's sweep 10-25): on the
    organism alpha 15-20 (s = 2) is where SMITIN adds and removes tempo within the
    limits, and acting one step in ``interval`` needs a larger alpha than ITI's
    (README, "Steering matrix"; DESIGN section 5). ``alpha=`` is a deprecated name.
    """

    strength: float = 20.0
    interval: int = 5  # act every `interval` generation steps (the paper's s)
    direction: str = "probe"  # or "mass_mean"
    pooling: str = "mean"  # probe frame policy
    power: float = 3.0
    monitor_heads: int = 16
    tau: float | None = None  # None: derived from the probes' validation outputs (see derive_tau)
    warmup: int = 25
    monitor_frames: int | None = 50  # the monitor's running mean covers the last 50 frames (1 s); None: all
    latch: bool = False  # stop for good once the monitor first reads the trait as present
    baseline_steps: int = 0  # > 0: the reading is relative to each prompt's first steps (see Monitor)
    remove: bool = False
    C: float = 1.0  # probes' inverse L2 regularisation (scikit-learn's C)
    keep: tuple[str, ...] = ()  # concepts whose readouts steering must leave alone (see steering.keep)
    edit: str = "add"  # or "bounded": move each head's projection toward the class level (strength = beta)

    derived_keys = ("tau_derived", "tau_source")  # older artifacts kept these in the config (now in meta)

    def validate(self) -> None:
        for name in ("interval", "monitor_heads"):
            self.at_least(name, 1)
        for name in ("warmup", "baseline_steps", "power"):
            self.at_least(name, 0)
        self.at_least("monitor_frames", 1, optional=True)
        self.at_least("tau", float("-inf"), optional=True)
        self.one_of("direction", DIRECTIONS)
        self.one_of("pooling", POOLINGS)
        if not 0 < self.C < float("inf"):
            self.fail("C", "must be a finite number > 0")


def soft_head_weights(acc: torch.Tensor, power: float = 3.0) -> torch.Tensor:
    """``((acc - min) / (max - min)) ** power``; uniform when every head is equally accurate."""
    spread = acc.max() - acc.min()
    if float(spread) < 1e-9:
        return torch.ones_like(acc)
    return ((acc - acc.min()) / spread) ** power


class SMITINSteerer(Steerer):
    """Soft-weighted heads + the self-monitoring schedule. ``strength`` is alpha (x each head's std)."""

    method = "smitin"
    strength_name = "alpha"
    config_class = SMITINConfig
    spec_fields = frozenset({"rows", "start", "stop", "every", "layers", "heads"})
    required_tensors = ("soft_weights", "directions", "sigma", "val_acc", "monitor_heads", "monitor_weight",
                        "monitor_bias")

    @classmethod
    def fit(cls, store, concept: str, config: SMITINConfig | None = None,
            spec: ApplySpec | None = None, *, keep_store=None) -> SMITINSteerer:
        """Fit from ``store``; kept concepts' directions come from ``keep_store`` when given."""
        config = config or SMITINConfig()
        view = store.probe_view("attn_z", config.pooling)
        bank = fit_probe_bank(view, concept, "attn_z", config=ProbeConfig(C=config.C))
        acc = bank.val_acc
        soft = soft_head_weights(acc, config.power)
        dirs, sigma, extra, keep_meta = precise_head_directions(view, bank, concept, config, keep_store, store)
        n_monitor = clamp_with_warning(cls.method, "monitor_heads", config.monitor_heads, bank.n_groups)
        mon = torch.argsort(acc, descending=True)[:n_monitor]
        tau = config.tau if config.tau is not None else derive_tau(bank.val_logits[mon], bank.val_labels,
                                                                   config.remove)
        n_heads = bank.grid[1]
        saved = dataclasses.replace(config, tau=float(tau), monitor_heads=n_monitor)
        return cls(concept=concept, site="attn_z", tensors={
            "soft_weights": soft, "directions": dirs, "sigma": sigma, "val_acc": acc,
            "monitor_heads": torch.stack([mon // n_heads, mon % n_heads], dim=1),
            "monitor_weight": bank.weight[mon], "monitor_bias": bank.bias[mon], **extra},
            config=saved, model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
            spec=cls.fit_spec(ApplySpec(rows="both", every=config.interval), spec),
            meta={"store": str(store.root), "grid": list(bank.grid), "tau_derived": config.tau is None, **keep_meta})

    def monitor(self, **overrides) -> ProbeMonitor:
        """A fresh self-monitor from the fitted probes (``overrides``: tau, warmup, frames, latch, baseline_steps)."""
        c = self.config
        kw = dict(tau=c.tau, warmup=c.warmup, frames=c.monitor_frames, latch=c.latch, baseline_steps=c.baseline_steps)
        kw.update(overrides)
        return ProbeMonitor([tuple(h) for h in self.tensors["monitor_heads"].tolist()],
                            self.tensors["monitor_weight"], self.tensors["monitor_bias"], site="attn_z",
                            pooling=c.pooling, flip=self.remove, **kw)

    def calibrate_monitor(self, model: MusicGen, *, judge, strength: float | None = None, baseline_steps: int = 25,
                          seed: int = 0, **generate_kwargs) -> MonitorCalibration:
        """Re-derive tau on generations of ``generate_kwargs`` judged by ``judge`` (see :mod:`.calibration`).

        tau from validation clips separates clips that hold the trait throughout;
        in a continuation the read heads also carry the prompt. This reads
        relative to each prompt's first ``baseline_steps`` steps and sets tau to
        the change that best separates judged-present from judged-absent
        generations (unsteered and at ``strength``). The steerer keeps the result.
        """
        mon = self.monitor(tau=self.config.tau, baseline_steps=baseline_steps)
        result = calibrate_monitor(self, model, mon, judge=judge, strength=strength or self.strength, seed=seed,
                                   **generate_kwargs)
        self.config = dataclasses.replace(self.config, tau=float(result.tau), baseline_steps=baseline_steps)
        self.meta.update(tau_derived=False, tau_source="generations")
        return result

    def default_schedule(self) -> Schedule:
        return self.monitor()

    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        grid = self.meta["grid"]
        weights = self.tensors["soft_weights"].clone()
        if run.spec.heads is not None:
            mask = torch.zeros_like(weights)
            for layer, head in run.spec.heads:
                mask[layer * grid[1] + head] = 1.0
            weights = weights * mask
        delta = (weights[:, None] * self.tensors["sigma"][:, None] * self.tensors["directions"]
                 * run.sign).reshape(grid[0], grid[1], -1)
        layers = list(run.spec.layers) if run.spec.layers is not None else list(range(grid[0]))
        layers = [layer for layer in layers if delta[layer].abs().max() > 0]
        if self.config.edit == "bounded":
            shape = (grid[0], grid[1])
            dirs = self.tensors["directions"].reshape(*shape, -1)
            target = target_of(self.tensors, self.remove, self.method).reshape(shape)
            return [Intervention("attn_z", layer, bounded_fn(run, dirs[layer], target[layer], f"L{layer}",
                                                             weights.reshape(shape)[layer]),
                                 rows=run.rows, steps=run.window, name=f"smitin@L{layer}") for layer in layers]

        def edit_for(layer: int):
            def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
                return x + run.scale(x, ctx) * run.cached(f"L{layer}", delta[layer], x)
            return edit

        return [Intervention("attn_z", layer, edit_for(layer), rows=run.rows, steps=run.window,
                             name=f"smitin@L{layer}") for layer in layers]
