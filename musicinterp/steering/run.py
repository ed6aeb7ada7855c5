"""``steer``: generate with any number of steerers combined (each one as if inside its ``apply`` block)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import torch

from ..engine.generation import GenerationResult, generate
from ..errors import InputError
from ..models.musicgen import MusicGen
from .base import Steerer, Strength
from .spec import ApplySpec, Schedule

SteeredResult = GenerationResult  # a steered generation is a generation with logs and monitor traces


def steer(model: MusicGen, steerers: Steerer | Sequence[Steerer], *,
          strength: Strength | Sequence[Strength] = None, schedule: Schedule | Sequence[Schedule | None] | None = None,
          spec: ApplySpec | None = None, **generate_kwargs: Any) -> GenerationResult:
    """Generate with ``steerers`` applied together (``generate_kwargs`` as for :func:`musicinterp.generate`).

    ``strength`` overrides each method's own strength (alpha, lambda or s); a
    list gives one per steerer; a tensor ``(B,)`` gives one per prompt (a
    strength sweep in one batch: rows with strength 0 are left untouched).
    ``schedule`` (a list: one per steerer) replaces each method's default
    schedule, e.g. a :class:`~musicinterp.steering.monitor.ProbeMonitor` to run
    any method self-monitored.
    """
    steerers = [steerers] if isinstance(steerers, Steerer) else list(steerers)
    strengths = _per_steerer(strength, len(steerers), "strength")
    schedules = _per_steerer(schedule, len(steerers), "schedule")
    with ExitStack() as stack:
        for st, s, sch in zip(steerers, strengths, schedules, strict=True):
            stack.enter_context(st.apply(model, strength=s, spec=spec, schedule=sch))
        return generate(model, **generate_kwargs)


def _per_steerer(value: Any, n: int, what: str) -> list[Any]:
    if isinstance(value, (list, tuple)) and not (what == "strength" and n == 1 and len(value) != 1):
        if len(value) != n:
            raise InputError(f"{len(value)} {what} values for {n} steerers")
        return list(value)
    if isinstance(value, torch.Tensor) or not isinstance(value, (list, tuple)):
        return [value] * n
    return [value] * n
