"""``steer``: generate with any number of steerers combined."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..generation import GenerationResult, generate
from ..models.musicgen import MusicGen
from .base import Steerer
from .monitor import MonitorTrace
from .spec import ApplySpec, Schedule, StrengthLog


@dataclass
class SteeredResult:
    """The generation plus, per steerer, the steps it edited, the strengths used, and monitor traces."""

    generation: GenerationResult
    logs: dict[str, StrengthLog] = field(default_factory=dict)
    monitors: dict[str, MonitorTrace] = field(default_factory=dict)

    @property
    def codes(self):
        return self.generation.codes

    @property
    def audio(self):
        return self.generation.audio


def steer(model: MusicGen, steerers: Steerer | Sequence[Steerer], *, strength: float | Sequence[float | None] | None = None,
          schedule: Schedule | None = None, spec: ApplySpec | None = None, **generate_kwargs: Any) -> SteeredResult:
    """Generate with ``steerers`` applied together (``generate_kwargs`` as for :func:`generate`).

    ``strength`` overrides each method's own strength (alpha, lambda or s); a
    list gives one per steerer.
    """
    steerers = [steerers] if isinstance(steerers, Steerer) else list(steerers)
    strengths = list(strength) if isinstance(strength, (list, tuple)) else [strength] * len(steerers)
    if len(strengths) != len(steerers):
        raise ValueError(f"{len(strengths)} strengths for {len(steerers)} steerers")
    interventions, callbacks = [], []
    result = SteeredResult(generation=None)  # type: ignore[arg-type]
    for i, (st, s) in enumerate(zip(steerers, strengths, strict=True)):
        prepared = st.prepare(model, strength=s, schedule=schedule, spec=spec)
        name = f"{st.method}:{st.concept}" + (f"#{i}" if any(
            o.method == st.method and o.concept == st.concept for o in steerers[:i]) else "")
        interventions.extend(prepared.interventions)
        callbacks.extend(prepared.callbacks)
        result.logs[name] = prepared.log
        if prepared.monitor is not None:
            result.monitors[name] = prepared.monitor.trace
    result.generation = generate(model, interventions=interventions, callbacks=callbacks, **generate_kwargs)
    return result
