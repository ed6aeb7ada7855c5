"""Steerers held active on a model by ``with steerer.apply(model)``: applied everywhere, or refused.

Generation (:func:`~musicinterp.engine.generation.generate`) applies them with
their schedules; teacher-forced traces (:func:`~musicinterp.engine.tracing.trace_codes`,
:func:`~musicinterp.engine.likelihood.nll_under`) apply their edits at every
position at the configured strength (no schedule: there are no steps). Entry
points whose output must be unsteered (collection, ablation and patching)
call :func:`refuse_active_steering`: never silently unsteered, never silently
steered.
"""

from __future__ import annotations

from typing import Any

from ..errors import MusicInterpError

__all__ = ["ActiveSteeringError", "active_steerers", "prepare_active", "active_edits", "refuse_active_steering"]


class ActiveSteeringError(RuntimeError, MusicInterpError):
    """An entry point that must run the unsteered model was called inside ``with steerer.apply(model)``."""


def active_steerers(model: Any) -> list[Any]:
    """The entries ``Steerer.apply`` holds on ``model`` (in the order they were entered)."""
    return list(getattr(model, "steering", ()))


def prepare_active(model: Any) -> tuple[list[Any], list[Any]]:
    """Every active entry and its :class:`~musicinterp.steering.base.Prepared` for one run."""
    active = active_steerers(model)
    return active, [entry.prepare(model) for entry in active]


def active_edits(model: Any) -> list[Any]:
    """The edits of every active steerer, for one teacher-forced pass (monitor reads left out)."""
    return [iv for prepared in prepare_active(model)[1] for iv in prepared.edits]


def refuse_active_steering(model: Any, what: str, why: str = "its results must come from the unsteered model"
                           ) -> None:
    """Raise :class:`ActiveSteeringError` naming the active steerers if ``model`` has any."""
    active = active_steerers(model)
    if active:
        names = ", ".join(entry.name for entry in active)
        raise ActiveSteeringError(f"{what} refuses to run while steerers are active on the model ({names}): {why}. "
                                  f"Call it outside the `with steerer.apply(model)` block.")
