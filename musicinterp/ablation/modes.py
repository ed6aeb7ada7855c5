"""Ablation modes as setters: what an ablated component becomes.

* ``zero``: zeros.
* ``mean``: the site's mean over a store's rows, from its running statistics
  (``store.stats(site)``; nothing is rescanned).
* ``resample``: the same component's activation on another clip.
* ``skip``: a whole decoder layer becomes the identity (its output is its input).

Patching uses :func:`copy_setter` with activations recorded on the other run.
"""

from __future__ import annotations

from typing import Any

import torch

from ..models.musicgen import MusicGen
from .cells import LAYER, Target
from .inputs import AblationInputError
from .sweep import Setter, SetterContext

MODES = ("zero", "mean", "resample", "skip")


def zero_setter() -> Setter:
    def setter(block: torch.Tensor, target: Target, ctx: SetterContext) -> torch.Tensor:
        return torch.zeros((), dtype=block.dtype, device=block.device)

    return setter


def store_means(model: MusicGen, store: Any, site: str) -> torch.Tensor:
    """Per-layer means ``(L, *site_shape)`` from the store's running statistics, checked against the model."""
    if store is None:
        raise AblationInputError(f"store: mode='mean' needs an activation store with statistics for site {site!r} "
                                 f"(collect one with musicinterp.collect.collect)")
    if hasattr(store, "check_model"):
        try:
            store.check_model(model)
        except Exception as err:
            raise AblationInputError(f"store: {err}") from None
    sites = list(getattr(store, "sites", []))
    if site not in sites:
        raise AblationInputError(f"store: {getattr(store, 'root', store)} holds no statistics for site {site!r} "
                                 f"(it holds {', '.join(sites) or 'none'}); collect {site!r} to mean-ablate it")
    stats = store.stats(site)
    if stats.mean is None or stats.count == 0:
        raise AblationInputError(f"store: the statistics for site {site!r} are empty (0 rows)")
    mean = stats.mean.float()
    shape = (model.n_layers, *model.site_shape(site))
    if mean.numel() != torch.Size(shape).numel():
        raise AblationInputError(f"store: statistics for {site!r} have shape {tuple(mean.shape)}; this model needs "
                                 f"{shape}")
    return mean.reshape(shape)


def mean_setter(means: torch.Tensor) -> Setter:
    def setter(block: torch.Tensor, target: Target, ctx: SetterContext) -> torch.Tensor:
        return means[target.layer].to(block.device)

    return setter


def copy_setter(acts: dict[tuple[str, int], torch.Tensor]) -> Setter:
    """Write activations recorded on another run (``(R, T, ...)`` per site and layer), cell rows aligned."""

    def setter(block: torch.Tensor, target: Target, ctx: SetterContext) -> torch.Tensor:
        return acts[(target.write_site, target.layer)][ctx.rows].to(block.device)

    return setter


def skip_setter() -> Setter:
    def setter(block: torch.Tensor, target: Target, ctx: SetterContext) -> torch.Tensor:
        if target.site != LAYER or ctx.layer_input is None:
            raise AblationInputError("mode='skip' acts on whole layers (site='layer')")
        return ctx.layer_input

    return setter


def resample_rows(batch: int) -> torch.Tensor:
    """Row ``i`` takes its activation from clip ``(i + 1) % B``: every clip from another clip."""
    if batch < 2:
        raise AblationInputError("data: mode='resample' without resample_from= needs at least 2 clips "
                                 "(each clip takes another clip's activation)")
    return torch.roll(torch.arange(batch), -1)
