"""SMITIN (Koo et al. 2024): soft-weighted, self-monitored, time-sparse head intervention.

Every head is steered along its unit probe direction, weighted by
``((acc - min) / (max - min)) ** power`` of its validation accuracy, every
``interval`` steps. A monitor (median probe probability over the most accurate
heads) drives the strength: full during the warm-up, ``alpha * (1 - C / tau)``
while ``C < tau``, and zero once the trait is present (``C >= tau``). Removing a
trait flips the direction and the monitor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..interventions import Intervention, StepContext, StepWindow
from ..models.musicgen import MusicGen
from ..probes import ProbeConfig, fit_probe_bank
from ..store.reader import ActivationStore
from .base import Prepared, Steerer
from .directions import head_directions
from .monitor import ProbeMonitor
from .spec import ApplySpec, Constant, Schedule, StrengthLog


@dataclass
class SMITINConfig:
    alpha: float = 5.0
    interval: int = 5
    direction: str = "probe"  # or "mass_mean"
    pooling: str = "mean"  # probe frame policy
    power: float = 3.0
    monitor_heads: int = 16
    tau: float | None = None  # None: derived from the probes' validation outputs (see derive_tau)
    warmup: int = 25
    monitor_frames: int | None = 50  # the monitor's running mean covers the last 50 frames (1 s); None: all
    remove: bool = False
    C: float = 1.0


def soft_head_weights(acc: torch.Tensor, power: float = 3.0) -> torch.Tensor:
    """``((acc - min) / (max - min)) ** power``; uniform when every head is equally accurate."""
    spread = acc.max() - acc.min()
    if float(spread) < 1e-9:
        return torch.ones_like(acc)
    return ((acc - acc.min()) / spread) ** power


def derive_tau(val_logits: torch.Tensor, val_labels: torch.Tensor, flip: bool = False) -> float:
    """The monitor threshold that best separates the classes on validation clips.

    ``val_logits`` are the monitor heads' validation outputs ``(M, n)``; the
    monitor reading is their median probability. tau is the reading that
    maximises balanced accuracy (midpoint between neighbouring readings).
    """
    c = torch.sigmoid(val_logits).median(dim=0).values
    y = val_labels.clone()
    if flip:
        c, y = 1 - c, 1 - y
    values = torch.sort(torch.unique(c)).values
    cands = torch.cat([values[:1] - 1e-6, (values[1:] + values[:-1]) / 2, values[-1:] + 1e-6])
    best, best_bal = 0.5, -1.0
    for t in cands.tolist():
        pred = c >= t
        tpr = (pred & (y == 1)).sum() / (y == 1).sum().clamp_min(1)
        tnr = (~pred & (y == 0)).sum() / (y == 0).sum().clamp_min(1)
        bal = float(tpr + tnr) / 2
        if bal > best_bal:
            best, best_bal = t, bal
    return float(best)


class SMITINSteerer(Steerer):
    method = "smitin"

    @classmethod
    def fit(cls, store: ActivationStore, concept: str, config: SMITINConfig | None = None,
            spec: ApplySpec | None = None) -> SMITINSteerer:
        cfg = config or SMITINConfig()
        view = store.probe_view("attn_z", cfg.pooling)
        bank = fit_probe_bank(view, concept, "attn_z", config=ProbeConfig(C=cfg.C))
        acc = bank.val_acc
        soft = soft_head_weights(acc, cfg.power)
        dirs, sigma = head_directions(view, bank, concept, cfg.direction)
        mon = torch.argsort(acc, descending=True)[: min(cfg.monitor_heads, bank.n_groups)]
        tau = cfg.tau if cfg.tau is not None else derive_tau(bank.val_logits[mon], bank.val_labels, cfg.remove)
        n_heads = bank.grid[1]
        config = asdict(cfg)
        config["tau"], config["tau_derived"] = tau, cfg.tau is None
        return cls(concept=concept, site="attn_z", tensors={
            "soft_weights": soft, "directions": dirs, "sigma": sigma, "val_acc": acc,
            "monitor_heads": torch.stack([mon // n_heads, mon % n_heads], dim=1),
            "monitor_weight": bank.weight[mon], "monitor_bias": bank.bias[mon]},
            config=config, model_fingerprint=store.meta["model_fingerprint"], model_id=store.meta["model_id"],
            spec=spec or ApplySpec(rows="both", every=cfg.interval),
            meta={"store": str(store.root), "grid": list(bank.grid)})

    def prepare(self, model: MusicGen, *, strength: float | None = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        self.check_model(model)
        spec = spec or self.spec
        cfg = self.config
        alpha = cfg["alpha"] if strength is None else strength
        schedule = schedule or Constant()
        sign = -1.0 if cfg["remove"] else 1.0
        window = StepWindow(spec.start, spec.stop, spec.every)
        monitor = ProbeMonitor([tuple(h) for h in self.tensors["monitor_heads"].tolist()],
                               self.tensors["monitor_weight"], self.tensors["monitor_bias"], pooling=cfg["pooling"],
                               flip=cfg["remove"], tau=cfg["tau"], warmup=cfg["warmup"], window=window,
                               frames=cfg.get("monitor_frames"))
        grid = self.meta["grid"]
        delta = (self.tensors["soft_weights"][:, None] * self.tensors["sigma"][:, None]
                 * self.tensors["directions"] * sign).reshape(grid[0], grid[1], -1)
        layers = list(spec.layers) if spec.layers is not None else [
            layer for layer in range(grid[0]) if delta[layer].abs().max() > 0]
        log = StrengthLog()
        state = _StrengthState(alpha, monitor, schedule)
        edits = [Intervention("attn_z", layer, state.edit(delta[layer]), rows=spec.rows, steps=window,
                              name=f"smitin@L{layer}") for layer in layers]

        def end_of_step(step: int) -> None:
            reading = monitor.end_step(step)
            used = state.current_strength(reading.shape[0])
            tr = monitor.trace
            tr.steps.append(step)
            tr.readings.append(reading.clone())
            tr.strengths.append(used if window.contains(step) else torch.zeros_like(used))
            if window.contains(step) and bool((used > 0).any()):
                tr.edited.append(step)
                log.record(step, float(used.mean()))
            state.update(step + 1)

        # monitor reads come first: at each monitored layer they see the model's state before this
        # layer's own push (otherwise the push itself would read as "trait present")
        return Prepared(interventions=monitor.interventions() + edits, callbacks=[end_of_step], log=log,
                        monitor=monitor)


class _StrengthState:
    """Per-prompt strength for the next step, from the monitor's last reading."""

    def __init__(self, alpha: float, monitor: ProbeMonitor, schedule: Schedule) -> None:
        self.alpha = alpha
        self.monitor = monitor
        self.schedule = schedule
        self.strength: torch.Tensor | None = None  # (B,)
        self.step = 0

    def current_strength(self, b: int) -> torch.Tensor:
        if self.strength is None or self.strength.shape[0] != b:
            self.strength = torch.full((b,), self.alpha * self.schedule(self.step))
        return self.strength

    def update(self, next_step: int) -> None:
        c = self.monitor.reading
        base = self.alpha * self.schedule(next_step)
        if next_step < self.monitor.warmup:
            self.strength = torch.full_like(c, base)
        else:
            tau = self.monitor.tau
            self.strength = torch.where(c >= tau, torch.zeros_like(c), base * (1 - c / tau).clamp(0, 1))
        self.step = next_step

    def edit(self, delta: torch.Tensor):
        def apply(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
            s = self.current_strength(ctx.batch).to(x.device, x.dtype)  # (B,)
            rows = torch.arange(ctx.rows.start, ctx.rows.stop) % ctx.batch
            scale = s[rows].reshape(-1, *([1] * (x.dim() - 1)))
            return x + scale * delta.to(x.device, x.dtype)
        return apply
