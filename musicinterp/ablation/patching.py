"""``patch``: activation patching between a clean and a corrupt run, cell by cell.

Denoising copies clean activations into the corrupt run (is this component
*sufficient* to bring the concept back?); noising copies corrupt activations
into the clean run (is it *necessary*?). Scores are normalised as
``(m - m_corrupt) / (m_clean - m_corrupt)`` in both directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models.musicgen import MusicGen
from .ablate import assemble
from .cells import LAYER, Grid, build_grid, set_grid
from .inputs import AblationInputError, TeacherForced, as_inputs
from .metrics import Metric, resolve_metric
from .modes import copy_setter
from .result import SweepResult
from .sweep import record, run_cells

DIRECTIONS = ("denoise", "noise")


def check_pair(clean: TeacherForced, corrupt: TeacherForced) -> None:
    """Clean and corrupt runs must line up row for row and position for position."""
    if tuple(clean.codes.shape) != tuple(corrupt.codes.shape):
        what = "lengths" if clean.codes.shape[:2] == corrupt.codes.shape[:2] else "shapes"
        raise AblationInputError(f"corrupt: codes of shape {tuple(corrupt.codes.shape)} do not match clean "
                                 f"{tuple(clean.codes.shape)} (the {what} differ; pairs must align frame by frame)")
    if clean.branch != corrupt.branch:
        raise AblationInputError(f"corrupt: branch {corrupt.branch!r} differs from clean branch {clean.branch!r}")
    if clean.guided and clean.guidance_scale != corrupt.guidance_scale:
        raise AblationInputError(f"corrupt: guidance_scale {corrupt.guidance_scale} differs from clean "
                                 f"{clean.guidance_scale}")


def patch(model: MusicGen, clean: Any, corrupt: Any, *, site: str = "resid", over: Sequence[str] | str = ("layer",),
          metric: str | Metric = "kl", direction: str = "denoise", window: int = 1, frame_bin: int = 1,
          layers: Sequence[int] | None = None, rows: str = "both", max_rows: int = 32, batched: bool = True,
          progress: bool = True) -> SweepResult:
    """Patch ``site`` between ``clean`` and ``corrupt`` at every cell of ``over``.

    ``over``: ``("layer",)``, ``("layer", "head")``, ``("layer", "frame")``;
    ``window`` > 1 patches sliding windows of that many consecutive layers.
    ``clean`` / ``corrupt``: :class:`TeacherForced` inputs (see :mod:`.pairs`) or codes.
    """
    clean, corrupt = as_inputs(model, clean, "clean"), as_inputs(model, corrupt, "corrupt")
    check_pair(clean, corrupt)
    if site == LAYER:
        raise AblationInputError("site: patching copies a site's activations; use site='resid' for layer outputs")
    grid = build_grid(model, site, over, n_positions=clean.n_frames + model.n_codebooks, window=window,
                      frame_bin=frame_bin, layers=layers)
    return _patch_sweep(model, clean, corrupt, grid, site, metric, direction, rows, max_rows, batched, progress)


def patch_sets(model: MusicGen, clean: Any, corrupt: Any, sets: Sequence[Sequence], *, site: str = "attn_z",
               metric: str | Metric = "kl", direction: str = "denoise", names: Sequence[str] | None = None,
               rows: str = "both", max_rows: int = 32, batched: bool = True, progress: bool = False) -> SweepResult:
    """Patch whole sets of components together (one cell per set): ``(layer, head)`` pairs or layers."""
    clean, corrupt = as_inputs(model, clean, "clean"), as_inputs(model, corrupt, "corrupt")
    check_pair(clean, corrupt)
    grid = set_grid(model, site, sets, names)
    return _patch_sweep(model, clean, corrupt, grid, site, metric, direction, rows, max_rows, batched, progress)


def _patch_sweep(model: MusicGen, clean: TeacherForced, corrupt: TeacherForced, grid: Grid, site: str,
                 metric: str | Metric, direction: str, rows: str, max_rows: int, batched: bool,
                 progress: bool) -> SweepResult:
    if direction not in DIRECTIONS:
        raise AblationInputError(f"direction must be 'denoise' (clean into corrupt) or 'noise' (corrupt into "
                                 f"clean), got {direction!r}")
    metric = resolve_metric(model, metric)
    layers = sorted({t.layer for c in grid.cells for t in c.targets})
    sites = [(site, layer) for layer in layers]
    denoise = direction == "denoise"
    clean_run = record(model, clean, metric, sites=sites if denoise else (), layer_outputs=batched and not denoise)
    corrupt_run = record(model, corrupt, metric, sites=() if denoise else sites, layer_outputs=batched and denoise,
                         reference=clean_run.logp, targets=clean.codes)
    target, base, source = (corrupt, corrupt_run, clean_run) if denoise else (clean, clean_run, corrupt_run)
    values = run_cells(model, target, grid.cells, copy_setter(source.acts), metric, base=base,
                       reference=clean_run.logp, targets=clean.codes, rows=rows, max_rows=max_rows,
                       batched=batched, progress=progress, desc=f"patch {direction} {site}")
    return assemble("patching", grid, values, site, direction, metric, model, clean=clean_run.values,
                    corrupt=corrupt_run.values, baseline=base.values,
                    info={"rows": rows, "branch": clean.branch, "clips": clean.batch,
                          "clean": clean.label, "corrupt": corrupt.label})
