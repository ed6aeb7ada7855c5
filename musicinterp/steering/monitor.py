"""Self-monitoring: probes read live during generation gate the strength of any steerer.

A :class:`Monitor` is a :class:`Schedule`. It reads its sites at every step of
the steering window (conditional rows, newest position), keeps features under
its probes' frame policy (for pooled-mean probes, a running mean over a
trailing window of generated frames, so it says whether the trait is present
*now*), and computes its reading (probability the trait is present, per
prompt) at the end of the step. The reading can only steer the *next* step: a
late layer cannot be read before an early one is edited in the same pass.

Strength rule (SMITIN, Koo et al. 2024): full strength during the warm-up;
then ``1 - reading / tau`` while ``reading < tau`` and zero once
``reading >= tau``. With ``latch`` a prompt stays stopped once it crossed tau.
Removing a trait flips the reading (``1 - p``).

With ``baseline_steps`` = b the reading is *relative*: each prompt's reading
minus its own mean over the first b steps. At a generated position the read
heads still attend over the whole prompt, so in continuations the absolute
reading carries each prompt's own level; the relative one says how far the
generation has moved from it. tau is then a change, calibrated on generations
(:func:`musicinterp.steering.calibration.calibrate_monitor`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..engine.interventions import Intervention, StepContext, StepWindow
from ..errors import InputError
from .spec import Schedule


@dataclass
class MonitorTrace:
    """Per-step readings ``(steps, B)`` and the strength each prompt got at each step."""

    steps: list[int] = field(default_factory=list)
    readings: list[torch.Tensor] = field(default_factory=list)  # (B,) per step
    strengths: list[torch.Tensor] = field(default_factory=list)  # (B,) strength used at that step (0: no edit)
    tau: float = 0.5
    warmup: int = 0

    @property
    def edited(self) -> list[int]:
        """Steps at which some prompt was steered (computed on access: no device sync while generating)."""
        if not self.steps:
            return []
        _, strengths = self.as_tensors()
        return [s for s, row in zip(self.steps, strengths, strict=True) if bool((row > 0).any())]

    def as_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.stack(self.readings).cpu(), torch.stack(self.strengths).cpu()

    def stop_step(self) -> torch.Tensor:
        """Per prompt, the first step after warm-up whose reading reached tau (-1: never)."""
        readings, _ = self.as_tensors()
        after = torch.tensor(self.steps) >= self.warmup
        hit = (readings >= self.tau) & after[:, None]
        first = torch.where(hit.any(0), hit.float().argmax(0), torch.full((readings.shape[1],), -1))
        return torch.where(first >= 0, torch.tensor(self.steps)[first.clamp_min(0)], first)

    def __repr__(self) -> str:
        n = len(self.readings[0]) if self.readings else 0
        return (f"MonitorTrace({len(self.steps)} steps x {n} prompts, tau={self.tau:.3f}, warmup={self.warmup}, "
                f"edited {len(self.edited)} steps)")


def derive_tau(val_logits: torch.Tensor, val_labels: torch.Tensor, flip: bool = False) -> float:
    """The monitor threshold that best separates the classes on validation clips.

    ``val_logits`` are the monitor heads' validation outputs ``(M, n)``; the
    monitor's reading is their median probability. tau is the reading that
    maximises balanced accuracy (midpoint between neighbouring readings).
    """
    c = torch.sigmoid(val_logits).median(dim=0).values
    y = val_labels.clone()
    if flip:
        c, y = 1 - c, 1 - y
    return best_threshold(c, y.bool())


def best_threshold(readings: torch.Tensor, reached: torch.Tensor) -> float:
    """The threshold t maximising balanced accuracy of ``readings >= t`` against ``reached`` (midpoints)."""
    readings, reached = readings.flatten().float().cpu(), reached.flatten().bool().cpu()
    if readings.shape != reached.shape or readings.numel() == 0:
        raise InputError(f"readings {tuple(readings.shape)} and reached {tuple(reached.shape)} must be equal, "
                         f"non-empty shapes")
    values = torch.sort(torch.unique(readings)).values
    cands = torch.cat([values[:1] - 1e-6, (values[1:] + values[:-1]) / 2, values[-1:] + 1e-6])
    best, best_bal = 0.5, -1.0
    for t in cands.tolist():
        pred = readings >= t
        tpr = (pred & reached).sum() / reached.sum().clamp_min(1)
        tnr = (~pred & ~reached).sum() / (~reached).sum().clamp_min(1)
        bal = float(tpr + tnr) / 2
        if bal > best_bal:
            best, best_bal = t, bal
    return float(best)


class Monitor(Schedule):
    """Closed-loop schedule. Subclasses say what to read (:meth:`read_interventions`) and how to score it."""

    def __init__(self, *, tau: float, warmup: int = 25, flip: bool = False, latch: bool = False,
                 baseline_steps: int = 0) -> None:
        if not 0 <= int(baseline_steps) <= int(warmup):
            raise InputError(f"baseline_steps={baseline_steps} must lie in 0..warmup ({warmup}): the baseline is "
                             f"taken while the monitor cannot stop steering yet")
        self.tau = float(tau)
        self.warmup = int(warmup)
        self.flip = flip
        self.latch = latch
        self.baseline_steps = int(baseline_steps)
        self.start(0)

    # -- per generation -------------------------------------------------------------------------
    def start(self, batch: int) -> None:
        self.trace = MonitorTrace(tau=self.tau, warmup=self.warmup)
        self.reading: torch.Tensor | None = None
        self.gate: torch.Tensor | None = None
        self.stopped: torch.Tensor | None = None
        self._last_step = -1
        self._baseline_sum: torch.Tensor | None = None
        self._baseline_n = 0
        self.reset_features()

    def reset_features(self) -> None:
        """Forget features kept from earlier steps (subclasses)."""

    def interventions(self, window: StepWindow | None = None) -> list[Intervention]:
        window = window or StepWindow()
        return self.read_interventions(StepWindow(window.start, window.stop, 1))

    def read_interventions(self, window: StepWindow) -> list[Intervention]:
        raise NotImplementedError

    def score(self) -> torch.Tensor:
        """Probability the trait is present, per prompt ``(B,)``, from this step's features."""
        raise NotImplementedError

    def factor(self, step: int, batch: int, device: torch.device | None = None) -> torch.Tensor:
        if self.gate is None or self.gate.shape[0] != batch:
            self.gate = torch.ones(batch, device=device)
        return self.gate if device is None else self.gate.to(device)

    def end_step(self, step: int) -> None:
        if step == self._last_step:  # shared by several steerers: fold each step in once
            return
        self._last_step = step
        c = self.score()
        reading = 1 - c if self.flip else c
        if self.baseline_steps:
            reading = self._relative(reading)
        self.reading = reading
        present = reading >= self.tau
        if self.stopped is None or self.stopped.shape != present.shape:
            self.stopped = torch.zeros_like(present)
        if step + 1 < self.warmup:
            gate = torch.ones_like(reading)
        else:
            if self.latch:
                self.stopped = self.stopped | present
            gate = torch.where(present | self.stopped, torch.zeros_like(reading),
                               (1 - reading / self.tau).clamp(0, 1))
        self.gate = gate

    def _relative(self, raw: torch.Tensor) -> torch.Tensor:
        """``raw`` minus this prompt's mean reading over the first ``baseline_steps`` steps (0 while taking it)."""
        if self._baseline_sum is None or self._baseline_sum.shape != raw.shape:
            self._baseline_sum, self._baseline_n = torch.zeros_like(raw), 0
        if self._baseline_n < self.baseline_steps:
            self._baseline_sum = self._baseline_sum + raw
            self._baseline_n += 1
            return torch.zeros_like(raw)
        return raw - self._baseline_sum / self._baseline_n

    def step_callback(self, window: StepWindow, strength: Callable[[int, int], torch.Tensor]
                      ) -> Callable[[int, int], None]:
        """The end-of-step hook of one steered generation: fold the step's reading in and record the strength
        used (``strength(step, batch)``, zero outside ``window``). Steps before the window, which another
        steerer's edit visits when both run in one generation, are skipped: nothing was read there."""
        reads = StepWindow(window.start, window.stop, 1)

        def end_of_step(step: int, batch: int) -> None:
            if not reads.contains(step):
                return
            used = strength(step, batch)
            self.end_step(step)
            self.record(step, used if window.contains(step) else torch.zeros_like(used))
        return end_of_step

    def record(self, step: int, used: torch.Tensor) -> None:
        """Keep this step's reading and the strength used (called by the steerer's end-of-step hook)."""
        if self.trace.steps and self.trace.steps[-1] == step:
            return
        self.trace.steps.append(step)
        self.trace.readings.append(self.reading.detach().clone())
        self.trace.strengths.append(used.detach().clone())


class ProbeMonitor(Monitor):
    """Median probability over probe heads (``attn_z``) or layers (``resid``), per prompt."""

    def __init__(self, units: list[tuple[int, int]], weight: torch.Tensor, bias: torch.Tensor, *, site: str = "attn_z",
                 pooling: str = "mean", frames: int | None = 50, **kw) -> None:
        self.units = [tuple(u) for u in units]  # (layer, head) for attn_z; (layer, -1) for resid
        self.weight = weight.float()
        self.bias = bias.float()
        self.site = site
        self.pooling = pooling
        self.frames = frames
        super().__init__(**kw)

    @classmethod
    def fit(cls, store, concept: str, *, site: str = "attn_z", n_units: int = 16, pooling: str = "mean",
            remove: bool = False, tau: float | None = None, warmup: int = 25, frames: int | None = 50,
            latch: bool = False, C: float = 1.0) -> ProbeMonitor:
        """Probes on the ``n_units`` most accurate heads (or layers) of ``site``; tau from validation."""
        from ..probes import ProbeConfig, fit_probe_bank

        bank = fit_probe_bank(store.probe_view(site, pooling), concept, site, config=ProbeConfig(C=C))
        top = torch.argsort(bank.val_acc, descending=True)[: min(n_units, bank.n_groups)]
        if len(bank.grid) == 2:
            units = [(int(g) // bank.grid[1], int(g) % bank.grid[1]) for g in top]
        else:
            units = [(int(g), -1) for g in top]
        tau = tau if tau is not None else derive_tau(bank.val_logits[top], bank.val_labels, remove)
        return cls(units, bank.weight[top], bank.bias[top], site=site, pooling=pooling, frames=frames, tau=tau,
                   warmup=warmup, flip=remove, latch=latch)

    def reset_features(self) -> None:
        self.history: list[torch.Tensor] = []
        self.current: torch.Tensor | None = None

    def read_interventions(self, window: StepWindow) -> list[Intervention]:
        by_layer: dict[int, list[int]] = {}
        for i, (layer, _) in enumerate(self.units):
            by_layer.setdefault(layer, []).append(i)
        per_head = self.site in ("attn_z", "cross_z")
        return [Intervention(self.site, layer, self._reader(idx),
                             heads=[self.units[i][1] for i in idx] if per_head else None, rows="cond",
                             steps=window, name=f"monitor@{self.site}{layer}")
                for layer, idx in sorted(by_layer.items())]

    def _reader(self, idx: list[int]):
        def read(x: torch.Tensor, ctx: StepContext) -> None:
            feats = x[:, -1].float()  # (B, h, hd) or (B, d)
            if feats.dim() == 2:
                feats = feats[:, None].expand(-1, len(idx), -1)
            if self.current is None or self.current.shape[0] != feats.shape[0] or self.current.device != feats.device:
                self.current = torch.zeros(feats.shape[0], len(self.units), feats.shape[-1], device=feats.device)
            self.current[:, idx] = feats  # stays on the model's device: no per-step sync
        return read

    def score(self) -> torch.Tensor:
        if self.current is None:
            raise RuntimeError("monitor saw no activations this step (is its window inside the generation?)")
        self.history.append(self.current.clone())
        if self.frames is not None and len(self.history) > self.frames:
            self.history.pop(0)
        feats = torch.stack(self.history).mean(0) if self.pooling == "mean" else self.current
        w, b = self.weight.to(feats.device), self.bias.to(feats.device)
        probs = torch.sigmoid((feats * w).sum(-1) + b)  # (B, M)
        return probs.median(dim=1).values
