"""Edits and reads at sites, addressed by layer, heads, CFG rows and steps.

An :class:`Intervention` is the unit both teacher-forced traces and generation
apply. Steering methods build them; users can write their own with
:func:`add`, :func:`replace` or :func:`apply_fn`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from ..errors import InputError
from ..models.rows import ROWS, row_slice
from ..models.sites import get_site


@dataclass(frozen=True)
class StepWindow:
    """Generation steps ``[start, stop)`` taken every ``every`` steps (``stop=None``: to the end)."""

    start: int = 0
    stop: int | None = None
    every: int = 1

    def __post_init__(self) -> None:
        if self.start < 0 or self.every < 1 or (self.stop is not None and self.stop < self.start):
            raise InputError(f"invalid step window {self}")

    def contains(self, step: int) -> bool:
        if step < self.start or (self.stop is not None and step >= self.stop):
            return False
        return (step - self.start) % self.every == 0


@dataclass
class StepContext:
    """What an intervention knows when it runs: the step, layer, rows and batch layout."""

    step: int  # generation step (0 = first generated frame); -1 in teacher-forced traces
    layer: int
    site: str
    batch: int  # prompts in the batch (B)
    guided: bool  # classifier-free guidance: decoder rows are doubled (cond, uncond)
    rows: slice  # the rows this intervention addresses


EditFn = Callable[[torch.Tensor, StepContext], "torch.Tensor | None"]


@dataclass
class Intervention:
    """Read or edit one site at one layer.

    ``fn`` receives the addressed slice ``value[rows, positions, (heads)]`` and
    returns its replacement (or ``None`` to leave it). Head sites are seen as
    ``[..., H, head_dim]``; ``heads`` narrows that to the listed heads.
    ``positions="new"`` touches only the newest position of each generation pass
    (the frame being produced); ``"all"`` every position in the pass.
    """

    site: str
    layer: int
    fn: EditFn
    heads: Sequence[int] | None = None
    rows: Literal["cond", "uncond", "both"] = "both"
    steps: StepWindow = field(default_factory=StepWindow)
    positions: Literal["new", "all"] = "new"
    name: str = ""

    def __post_init__(self) -> None:
        site = get_site(self.site)
        if self.heads is not None and not site.per_head:
            raise InputError(f"heads= only applies to per-head sites (attn_z, cross_z), not {self.site!r}")
        if self.rows not in ROWS:
            raise InputError(f"rows must be one of {ROWS}, got {self.rows!r}")
        if self.positions not in ("new", "all"):
            raise InputError(f"positions must be 'new' or 'all', got {self.positions!r}")

    def edit(self, value: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """Apply to the full site value ``(rows, T, ...)``; returns the (possibly) edited value."""
        rows = ctx.rows
        if rows.stop - rows.start <= 0:
            return value
        pos = slice(value.shape[1] - 1, value.shape[1]) if self.positions == "new" and ctx.step >= 0 \
            else slice(None)
        part = value[rows, pos]
        if self.heads is not None:
            part = part[:, :, list(self.heads)]
        new = self.fn(part, ctx)
        if new is None:
            return value
        if new.shape != part.shape:
            raise InputError(f"intervention {self.name or self.site} returned shape {tuple(new.shape)}, "
                             f"expected {tuple(part.shape)}")
        value = value.clone()
        if self.heads is not None:
            sub = value[rows, pos]
            sub[:, :, list(self.heads)] = new.to(value.dtype)
            value[rows, pos] = sub
        else:
            value[rows, pos] = new.to(value.dtype)
        return value

    def context(self, step: int, batch: int, guided: bool) -> StepContext:
        return StepContext(step=step, layer=self.layer, site=self.site, batch=batch, guided=guided,
                           rows=row_slice(self.rows, batch, guided))


def add(site: str, layer: int, vector: torch.Tensor, *, heads: Sequence[int] | None = None,
        scale: float = 1.0, **kw) -> Intervention:
    """Add ``scale * vector`` (broadcast over rows and positions)."""
    vec = torch.as_tensor(vector)

    def _add(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return x + scale * vec.to(x.device, x.dtype)

    return Intervention(site, layer, _add, heads=heads, name=kw.pop("name", f"add@{site}{layer}"), **kw)


def replace(site: str, layer: int, value: torch.Tensor, *, heads: Sequence[int] | None = None,
            **kw) -> Intervention:
    """Replace the addressed slice with ``value`` (broadcast)."""
    val = torch.as_tensor(value)

    def _replace(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return val.to(x.device, x.dtype).expand_as(x).clone()

    return Intervention(site, layer, _replace, heads=heads, name=kw.pop("name", f"replace@{site}{layer}"),
                        **kw)


def apply_fn(site: str, layer: int, fn: EditFn, **kw) -> Intervention:
    """Run an arbitrary function on the addressed slice (return ``None`` to only read)."""
    return Intervention(site, layer, fn, name=kw.pop("name", getattr(fn, "__name__", "fn")), **kw)


def plan(interventions: Sequence[Intervention], reads: Sequence[tuple[int, str]] = ()
         ) -> list[tuple[int, str, list[Intervention]]]:
    """Group interventions by (layer, site), plus bare ``reads``, in the order the forward pass reaches them.

    Within a group interventions keep their given order (a monitor listed first reads
    the value before the edits after it).
    """
    from ..models.sites import execution_key

    groups: dict[tuple[int, str], list[Intervention]] = {key: [] for key in reads}
    for iv in interventions:
        groups.setdefault((iv.layer, iv.site), []).append(iv)
    return [(layer, site, ivs) for (layer, site), ivs in sorted(groups.items(),
                                                               key=lambda kv: execution_key(*kv[0]))]
