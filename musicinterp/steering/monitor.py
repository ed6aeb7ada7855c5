"""Monitors: probes evaluated on live activations during generation, with a per-step trace.

A monitor reads its heads' ``attn_z`` (newest position, conditional rows) at
every step and keeps features under its probes' frame policy: the running mean
of the generated frames (over a trailing window, so it says whether the trait is
present *now*) for pooled-mean probes, the current frame for last-frame probes. Its reading ``C`` (median probability over its heads) is
computed at the end of each step, so it can only steer the *next* step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..interventions import Intervention, StepContext, StepWindow


@dataclass
class MonitorTrace:
    """Per-step readings ``(steps, B)`` and the strength each prompt got at each step."""

    steps: list[int] = field(default_factory=list)
    readings: list[torch.Tensor] = field(default_factory=list)  # (B,) per step
    strengths: list[torch.Tensor] = field(default_factory=list)  # (B,) strength used at that step
    edited: list[int] = field(default_factory=list)
    tau: float = 0.5
    warmup: int = 0

    def as_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.stack(self.readings), torch.stack(self.strengths)


class ProbeMonitor:
    """Median probability over monitor heads, per prompt, with a running mean of their features."""

    def __init__(self, heads: list[tuple[int, int]], weight: torch.Tensor, bias: torch.Tensor, *,
                 pooling: str, flip: bool, tau: float, warmup: int, window: StepWindow,
                 frames: int | None = None) -> None:
        self.heads = heads
        self.weight = weight.float()
        self.bias = bias.float()
        self.pooling = pooling
        self.flip = flip
        self.tau = tau
        self.warmup = warmup
        self.window = window
        self.frames = frames  # running mean over the last `frames` generated frames (None: all of them)
        self.history: list[torch.Tensor] = []  # per-step (B, M, hd) features inside the window
        self.current: torch.Tensor | None = None
        self.trace = MonitorTrace(tau=tau, warmup=warmup)
        self.reading: torch.Tensor | None = None

    def interventions(self) -> list[Intervention]:
        by_layer: dict[int, list[int]] = {}
        for i, (layer, _) in enumerate(self.heads):
            by_layer.setdefault(layer, []).append(i)
        return [Intervention("attn_z", layer, self._reader(idx), heads=[self.heads[i][1] for i in idx], rows="cond",
                             steps=StepWindow(self.window.start, self.window.stop, 1), name=f"monitor@L{layer}")
                for layer, idx in sorted(by_layer.items())]

    def _reader(self, idx: list[int]):
        def read(x: torch.Tensor, ctx: StepContext) -> None:
            feats = x[:, -1].float()  # (B, h, hd)
            if self.current is None or self.current.shape[0] != feats.shape[0]:
                self.current = torch.zeros(feats.shape[0], len(self.heads), feats.shape[-1])
            self.current[:, idx] = feats.cpu()
        return read

    def end_step(self, step: int) -> torch.Tensor:
        """Fold this step's features in and return the reading ``C`` per prompt."""
        if self.current is None:
            raise RuntimeError("monitor saw no activations this step")
        self.history.append(self.current.clone())
        if self.frames is not None and len(self.history) > self.frames:
            self.history.pop(0)
        feats = torch.stack(self.history).mean(0) if self.pooling == "mean" else self.current
        probs = torch.sigmoid((feats * self.weight).sum(-1) + self.bias)  # (B, M)
        c = probs.median(dim=1).values
        self.reading = 1 - c if self.flip else c
        return self.reading
