"""Calibrating a monitor's tau on generations, not on the clips its probes were fitted on.

A probe fitted on clips that hold (or lack) a trait throughout reads a
continuation differently: the read heads still attend over the prompt, so each
prompt brings its own level. The threshold that matters is the one that
separates generations where the trait *is* there (by a judge) from those where
it is not, read the way the monitor reads them during generation.

:func:`calibrate_monitor` generates the same prompts twice, unsteered and at a
given strength, with the monitor watching but never stopping (tau = inf), reads
each prompt's final reading, asks the judge about the frames the monitor's
window covers, and takes the threshold with the best balanced accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import InputError
from ..models.musicgen import MusicGen
from .monitor import Monitor, best_threshold


@dataclass
class MonitorCalibration:
    """Readings ``(2n,)`` (unsteered rows first), whether the goal was reached, and the chosen tau."""

    tau: float
    readings: torch.Tensor
    reached: torch.Tensor
    strength: float
    baseline_steps: int

    @property
    def balanced_accuracy(self) -> float:
        pred = self.readings >= self.tau
        pos, neg = self.reached, ~self.reached
        tpr = float((pred & pos).sum()) / max(int(pos.sum()), 1)
        tnr = float((~pred & neg).sum()) / max(int(neg.sum()), 1)
        return (tpr + tnr) / 2

    def __repr__(self) -> str:
        return (f"MonitorCalibration(tau={self.tau:.3f}, balanced accuracy {self.balanced_accuracy:.2f} over "
                f"{len(self.readings)} generations, {int(self.reached.sum())} reached the goal, "
                f"strength {self.strength:g}, baseline {self.baseline_steps} steps)")


def judge_present(judge: Callable[[torch.Tensor], Any], codes: torch.Tensor) -> torch.Tensor:
    """``(B,)`` bool from a judge: a callable returning a bool tensor, a ``JudgeResult`` or ``(scores, present)``."""
    out = judge(codes)
    if hasattr(out, "present"):
        out = out.present
    elif isinstance(out, tuple):
        out = out[1]
    present = torch.as_tensor(out).bool().flatten()
    if present.shape[0] != codes.shape[0]:
        raise InputError(f"judge gave {present.shape[0]} answers for {codes.shape[0]} generations")
    return present


def calibrate_monitor(steerer: Any, model: MusicGen, monitor: Monitor, *, judge: Callable[[torch.Tensor], Any],
                      strength: float, seed: int = 0, **generate_kwargs: Any) -> MonitorCalibration:
    """Set ``monitor.tau`` from unsteered and steered generations of ``generate_kwargs``; return the evidence.

    ``judge(codes)`` says per generation whether the trait is present in the
    frames the monitor reads (its trailing ``frames`` window, else all
    generated frames). For a steerer that removes the trait the goal is its
    absence. The monitor's own settings (baseline, window, flip) are used as is.
    """
    from ..engine.generation import generate

    if not float(strength) > 0:
        raise InputError(f"strength must be positive to calibrate against (got {strength!r})")
    window = getattr(monitor, "frames", None)
    readings, reached = [], []
    keep_tau = monitor.tau
    try:
        monitor.tau = float("inf")  # watch, never stop
        for s in (0.0, float(strength)):
            with steerer.apply(model, strength=s, schedule=monitor):
                res = generate(model, seed=seed, **generate_kwargs)
            final, _ = monitor.trace.as_tensors()
            new = res.codes[..., res.prompt_frames:] if getattr(res, "prompt_frames", 0) else res.codes
            seen = new[..., -window:] if window else new
            readings.append(final[-1].float())
            reached.append(judge_present(judge, seen) ^ bool(getattr(steerer, "remove", False)))
    finally:
        monitor.tau = keep_tau
    all_readings, all_reached = torch.cat(readings), torch.cat(reached)
    if bool(all_reached.all()) or not bool(all_reached.any()):
        raise InputError(f"the judge found the goal reached in {int(all_reached.sum())} of {len(all_reached)} "
                         f"generations: nothing to separate (pick a strength that reaches it in some, not all)")
    monitor.tau = best_threshold(all_readings, all_reached)
    return MonitorCalibration(tau=monitor.tau, readings=all_readings, reached=all_reached, strength=float(strength),
                              baseline_steps=monitor.baseline_steps)
