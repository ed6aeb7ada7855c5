"""Where and when a steerer acts (:class:`ApplySpec`), and how strongly at each step (:class:`Schedule`).

Classifier-free guidance: MusicGen mixes the two decoder branches as
``u + w (c - u)``. An edit ``d`` added to the conditional rows only moves the
guided logits by about ``w * d`` (amplified by the guidance scale ``w``);
added to both rows it moves ``c`` and ``u`` alike, so the guided result moves
by ``d`` whatever ``w`` is; added to the unconditional rows only it moves them
by ``(1 - w) * d``, i.e. *against* the edit. ``ApplySpec.rows`` chooses, and
every artifact records it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from ..engine.interventions import StepWindow
from ..errors import MusicInterpError
from ..models.rows import ROWS

SPEC_DEFAULTS: dict[str, Any] = {"rows": "both", "start": 0, "stop": None, "every": 1, "layers": None,
                                 "heads": None}


class SpecError(ValueError, MusicInterpError):
    """An ApplySpec a method cannot honour, or an invalid one."""


@dataclass(frozen=True)
class ApplySpec:
    """CFG rows, step window and, optionally, the layers/heads a steerer acts on.

    Every field left ``None`` is *unset*: merged into a stored spec with
    :meth:`merge`, it keeps the stored value (``ApplySpec(layers=[3])`` keeps
    rows and interval). ``layers``/``heads`` narrow the method's own choice
    (e.g. ITI's top-K heads); methods that cannot honour a field refuse it.
    """

    rows: str | None = None
    start: int | None = None
    stop: int | None = None
    every: int | None = None
    layers: Sequence[int] | None = None
    heads: Sequence[tuple[int, int]] | None = None

    def __post_init__(self) -> None:
        if self.rows is not None and self.rows not in ROWS:
            raise SpecError(f"ApplySpec.rows must be one of {ROWS}, got {self.rows!r}")
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(int(x) for x in self.layers))
        if self.heads is not None:
            heads = []
            for h in self.heads:
                if len(h) != 2:
                    raise SpecError(f"ApplySpec.heads takes (layer, head) pairs, got {h!r}")
                heads.append((int(h[0]), int(h[1])))
            object.__setattr__(self, "heads", tuple(heads))
        self.window  # noqa: B018 - raises on a bad window

    @property
    def window(self) -> StepWindow:
        r = self.resolved()
        return StepWindow(r["start"], r["stop"], r["every"])

    def set_fields(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def resolved(self) -> dict[str, Any]:
        """Every field, unset ones at their defaults."""
        return {f.name: (SPEC_DEFAULTS[f.name] if getattr(self, f.name) is None else getattr(self, f.name))
                for f in fields(self)}

    @property
    def rows_or_default(self) -> str:
        return self.resolved()["rows"]

    def merge(self, override: ApplySpec | None) -> ApplySpec:
        """This spec with every field ``override`` sets replaced."""
        if override is None:
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({name: getattr(override, name) for name in override.set_fields()})
        return ApplySpec(**values)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "start": self.start, "stop": self.stop, "every": self.every,
                "layers": list(self.layers) if self.layers is not None else None,
                "heads": [list(h) for h in self.heads] if self.heads is not None else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "spec") -> ApplySpec:
        if not isinstance(data, dict):
            raise SpecError(f"{where}: expected an object, got {type(data).__name__}")
        unknown = set(data) - set(SPEC_DEFAULTS)
        if unknown:
            raise SpecError(f"{where}: unknown field(s) {sorted(unknown)}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{where}: {err}") from err


class Schedule:
    """A strength multiplier per generation step and prompt row (1.0 = the configured strength).

    Plain schedules depend on the step only. Closed-loop schedules (monitors)
    also read the model: they contribute read-only :meth:`interventions`, see
    each step end in :meth:`end_step`, and gate each prompt row separately.
    """

    def start(self, batch: int) -> None:
        """Called once before a generation of ``batch`` prompts (reset per-generation state)."""

    def interventions(self) -> list:
        return []

    def end_step(self, step: int) -> None:
        """Called at the end of every generation step."""

    def factor(self, step: int, batch: int, device: torch.device | None = None) -> torch.Tensor:
        """Multiplier per prompt row ``(batch,)`` for ``step``."""
        return torch.full((batch,), float(self(step)), device=device)

    def __call__(self, step: int) -> float:
        return 1.0


@dataclass
class Constant(Schedule):
    """The same multiplier at every step."""

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
class Ramp(Schedule):
    """Strength rising linearly from ``low`` (times the configured strength) to ``value`` over the first
    ``steps`` generation steps, then held: edits that start gently break fewer notes already sounding."""

    steps: int = 20
    value: float = 1.0
    low: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise SpecError(f"Ramp.steps must be an int >= 1, got {self.steps!r}")

    def __call__(self, step: int) -> float:
        frac = min(1.0, max(0.0, step / self.steps))
        return self.low + (self.value - self.low) * frac


@dataclass
class StrengthLog:
    """What a steerer did: the steps it edited and the mean strength it used at each."""

    steps: list[int] = field(default_factory=list)
    _strengths: list[Any] = field(default_factory=list)  # floats or 0-d tensors (no device sync while steering)

    def record(self, step: int, strength: float | torch.Tensor) -> None:
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
            self._strengths.append(strength)

    @property
    def strengths(self) -> list[float]:
        return [float(s) for s in self._strengths]

    def __repr__(self) -> str:
        return f"StrengthLog({len(self.steps)} steps edited)"
