"""``ablate``: knock out layers, heads or frames one cell at a time and score what breaks.

The clean reference is the unablated run; the corrupt reference ablates every
cell of the sweep at once. Cells run batched (see :mod:`.sweep`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..models.musicgen import MusicGen
from .cells import LAYER, Grid, all_at_once, build_grid, set_grid
from .inputs import AblationInputError, TeacherForced, as_inputs
from .metrics import Metric, codebook_names, resolve_metric
from .modes import MODES, copy_setter, mean_setter, resample_rows, skip_setter, store_means, zero_setter
from .result import SweepResult
from .sweep import Setter, record, run_cells


def ablate(model: MusicGen, data: Any, *, site: str | None = None, mode: str = "mean",
           over: Sequence[str] | str = ("layer",), metric: str | Metric = "ce", store: Any = None,
           window: int = 1, frame_bin: int = 1, layers: Sequence[int] | None = None,
           resample_from: Any = None, rows: str = "both", max_rows: int = 32, batched: bool = True,
           progress: bool = True) -> SweepResult:
    """Ablate ``site`` at every cell of ``over`` (``("layer",)``, ``("layer", "head")``, ``("layer", "frame")``).

    ``mode``: ``zero``, ``mean`` (needs ``store`` with statistics for the site),
    ``resample`` (``resample_from`` clips, or each clip takes the next clip's
    activation), or ``skip`` (whole layers become the identity; ``site`` is the
    layer). ``window`` > 1 ablates sliding windows of consecutive layers.
    ``data``: :class:`TeacherForced` inputs (text and CFG branch explicit), codes or audio.
    """
    inputs = as_inputs(model, data)
    site = _site_for(mode, site)
    grid = build_grid(model, site, over, n_positions=inputs.n_frames + model.n_codebooks, window=window,
                      frame_bin=frame_bin, layers=layers)
    return _ablation_sweep(model, inputs, grid, site, mode, metric, store, resample_from, rows, max_rows,
                           batched, progress)


def ablate_sets(model: MusicGen, data: Any, sets: Sequence[Sequence], *, site: str | None = None,
                mode: str = "mean", metric: str | Metric = "ce", store: Any = None, names: Sequence[str] | None = None,
                resample_from: Any = None, rows: str = "both", max_rows: int = 32, batched: bool = True,
                progress: bool = False) -> SweepResult:
    """Ablate whole sets of components together, one cell per set: ``(layer, head)`` pairs or layers."""
    inputs = as_inputs(model, data)
    site = _site_for(mode, site)
    grid = set_grid(model, site, sets, names)
    return _ablation_sweep(model, inputs, grid, site, mode, metric, store, resample_from, rows, max_rows,
                           batched, progress)


def _site_for(mode: str, site: str | None) -> str:
    if mode not in MODES:
        raise AblationInputError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "skip":
        if site not in (None, LAYER):
            raise AblationInputError(f"site: mode='skip' removes whole layers; leave site unset (got {site!r})")
        return LAYER
    if site == LAYER:
        raise AblationInputError(f"site: site='layer' is only for mode='skip', not mode={mode!r}")
    return site or "attn_z"


def ablation_setter(model: MusicGen, inputs: TeacherForced, grid: Grid, site: str, mode: str, store: Any,
                    resample_from: Any) -> Setter:
    """The setter for ``mode`` (recording the resample source when needed)."""
    if mode == "zero":
        return zero_setter()
    if mode == "mean":
        return mean_setter(store_means(model, store, site))
    if mode == "skip":
        return skip_setter()
    layers = sorted({t.layer for c in grid.cells for t in c.targets})
    if resample_from is None:
        perm = resample_rows(inputs.batch)
        source = inputs.with_codes(inputs.codes[perm])
        source.cond = type(inputs.cond)(inputs.cond.input_ids[perm], inputs.cond.attention_mask[perm])
    else:
        source = as_inputs(model, resample_from, "resample_from")
        if source.codes.shape != inputs.codes.shape:
            raise AblationInputError(f"resample_from: codes of shape {tuple(source.codes.shape)} do not match data "
                                     f"{tuple(inputs.codes.shape)}")
        source = TeacherForced(source.codes, inputs.cond, inputs.branch, inputs.guidance_scale)
    rec = record(model, source, resolve_metric(model, "ce"), sites=[(site, layer) for layer in layers])
    return copy_setter(rec.acts)


def _ablation_sweep(model: MusicGen, inputs: TeacherForced, grid: Grid, site: str, mode: str,
                    metric: str | Metric, store: Any, resample_from: Any, rows: str, max_rows: int,
                    batched: bool, progress: bool) -> SweepResult:
    metric = resolve_metric(model, metric)
    setter = ablation_setter(model, inputs, grid, site, mode, store, resample_from)
    base = record(model, inputs, metric, layer_outputs=batched)
    cells = grid.cells + [all_at_once(grid)]
    values = run_cells(model, inputs, cells, setter, metric, base=base, reference=base.logp, rows=rows,
                       max_rows=max_rows, batched=batched, progress=progress, desc=f"ablate {mode} {site}")
    return assemble("ablation", grid, values, site, mode, metric, model, clean=base.values, corrupt=values[-1],
                    baseline=base.values, info={"rows": rows, "branch": inputs.branch, "clips": inputs.batch})


def assemble(kind: str, grid: Grid, values: torch.Tensor, site: str, method: str, metric: Metric, model: MusicGen,
             *, clean: torch.Tensor, corrupt: torch.Tensor, baseline: torch.Tensor, info: dict) -> SweepResult:
    """Cell values ``(N [+1], [K])`` -> a :class:`SweepResult` shaped by the grid's axes."""
    n = len(grid.cells)
    per_cb = values[:n].reshape(*grid.shape, -1) if values.dim() == 2 else None

    def scalar(v: torch.Tensor) -> torch.Tensor:
        return v.mean(-1) if v.dim() >= 1 and metric.per_codebook else v

    tensor = scalar(values[:n]).reshape(grid.shape).float()
    return SweepResult(
        kind=kind, site=site, method=method, metric=metric.name, axes=grid.axes, labels=grid.labels, tensor=tensor,
        clean=float(scalar(clean)), corrupt=float(scalar(corrupt)), baseline=float(scalar(baseline)),
        per_codebook=per_cb.float() if per_cb is not None else None,
        codebooks=codebook_names(model) if per_cb is not None else [],
        clean_per_codebook=clean.float() if per_cb is not None else None,
        corrupt_per_codebook=corrupt.float() if per_cb is not None else None, info=info)
