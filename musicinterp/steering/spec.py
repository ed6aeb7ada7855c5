"""Where and when a steerer acts (ApplySpec), and how strongly at each step (Schedule)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..interventions import StepWindow
from ..models.rows import ROWS


@dataclass
class ApplySpec:
    """Rows (CFG branch), step window and, optionally, which layers/heads to act on.

    ``layers``/``heads`` override the method's own choice (e.g. ITI's top-K heads).
    """

    rows: str = "both"
    start: int = 0
    stop: int | None = None
    every: int = 1
    layers: Sequence[int] | None = None
    heads: Sequence[tuple[int, int]] | None = None

    def __post_init__(self) -> None:
        if self.rows not in ROWS:
            raise ValueError(f"ApplySpec.rows must be one of {ROWS}, got {self.rows!r}")
        StepWindow(self.start, self.stop, self.every)  # raises on a bad window

    @property
    def window(self) -> StepWindow:
        return StepWindow(self.start, self.stop, self.every)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layers"] = list(self.layers) if self.layers is not None else None
        d["heads"] = [list(h) for h in self.heads] if self.heads is not None else None
        return d


class Schedule:
    """Strength multiplier per generation step (1.0 = the method's configured strength)."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError


@dataclass
class Constant(Schedule):
    value: float = 1.0

    def __call__(self, step: int) -> float:
        return self.value


@dataclass
class Decay(Schedule):
    """Exponential decay from ``value`` with the given half-life in steps."""

    value: float = 1.0
    half_life: float = 50.0

    def __call__(self, step: int) -> float:
        return self.value * math.pow(0.5, step / self.half_life)


@dataclass
class StrengthLog:
    """What a steerer did: the steps it edited and the strength it used at each."""

    steps: list[int] = field(default_factory=list)
    strengths: list[float] = field(default_factory=list)

    def record(self, step: int, strength: float) -> None:
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
            self.strengths.append(float(strength))
