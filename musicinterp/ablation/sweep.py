"""One generic batched sweep: cells x (setter, metric) -> one value per cell.

After TransformerLens's ``patching.py``: a *setter* says what an edited
component becomes, a *metric* scores the run, and named axes index the cells.
Here many cells run as rows of one forward pass: the inputs are repeated once
per cell along the decoder batch (cell ``c`` owns rows ``[c R, (c + 1) R)``) and
each cell's rows are edited at its own targets. Chunks bound the memory.

Every cell's edits start at some layer; the layers below the lowest one in a
chunk compute exactly what the unedited run computes, so they are skipped and
the unedited run's output stands in (``skip_prefix``). ``batched=False`` is the
reference loop: one full trace per cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..engine.active import refuse_active_steering
from ..models.delay import valid_positions
from ..models.musicgen import MusicGen
from ..models.sites import get_site
from .cells import LAYER, Cell, Target, execution_key
from .inputs import TeacherForced, cell_kwargs, encode_text, frame_logprobs
from .metrics import Metric, MetricContext

_UNSTEERED = "its sweeps trace the model directly and would not apply them (results would mix up steered and unsteered)"


@dataclass
class SetterContext:
    """What a setter knows about the cell block it edits."""

    cell: Cell
    rows: slice  # rows of the block this edit addresses (CFG branch)
    layer_input: torch.Tensor | None = None  # the live layer input (whole-layer targets)


# (block (R', T, ...) of the live value, target, context) -> replacement broadcastable to the block
Setter = Callable[[torch.Tensor, Target, SetterContext], torch.Tensor]


@dataclass
class Recorded:
    """An unedited run: scored log-probs, metric values, layer outputs and site activations."""

    logp: torch.Tensor  # (B, K, T, V)
    values: torch.Tensor  # (K,) per codebook or () scalar
    layer_out: dict[int, torch.Tensor] = field(default_factory=dict)  # (R, T, d)
    acts: dict[tuple[str, int], torch.Tensor] = field(default_factory=dict)  # (R, T, ...)


def _per_head(site: str) -> bool:
    return site != LAYER and get_site(site).per_head


def assign(block: torch.Tensor, source: torch.Tensor, target: Target) -> torch.Tensor:
    """``block`` with ``source`` written at the target's heads and positions."""
    source = source.to(block.dtype).expand_as(block)
    if target.heads is None and target.positions is None:
        return source.clone()
    t = block.shape[1]
    pos = torch.ones(t, dtype=torch.bool, device=block.device)
    if target.positions is not None:
        pos = torch.zeros_like(pos)
        pos[list(target.positions)] = True
    if _per_head(target.site):
        heads = torch.ones(block.shape[2], dtype=torch.bool, device=block.device)
        if target.heads is not None:
            heads = torch.zeros_like(heads)
            heads[list(target.heads)] = True
        mask = (pos[:, None] & heads[None, :])[None, :, :, None]
    else:
        mask = pos[None, :, None]
    return torch.where(mask, source, block)


def _pool(model: MusicGen, inputs: TeacherForced, value: torch.Tensor) -> torch.Tensor:
    """``(C * R, T', ...)`` -> scored rows pooled over valid positions ``(C, B, ...)``."""
    r, b = inputs.rows_per_cell, inputs.batch
    vp = valid_positions(inputs.n_frames, model.n_codebooks)
    value = value.reshape(-1, r, *value.shape[1:])[:, :b, vp.start : vp.stop]
    return value.float().mean(2)


@torch.no_grad()
def record(model: MusicGen, inputs: TeacherForced, metric: Metric, *, sites: Sequence[tuple[str, int]] = (),
           layer_outputs: bool = False, reference: torch.Tensor | None = None,
           targets: torch.Tensor | None = None) -> Recorded:
    """Trace ``inputs`` unedited: metric values, and (optionally) layer outputs and site activations."""
    refuse_active_steering(model, "ablation/patching", _UNSTEERED)
    reads = sorted(set(sites) | set(metric.reads()), key=lambda sl: execution_key(sl[1], sl[0]))
    saved: dict = {}
    layer_saved: dict[int, torch.Tensor] = {}
    with model.nn.trace(**cell_kwargs(model, inputs, 1)):
        order = sorted([(layer, s) for s, layer in reads] + ([(layer, "resid_out") for layer in range(model.n_layers)]
                                                              if layer_outputs else []),
                       key=lambda ls: execution_key(ls[0], "resid" if ls[1] == "resid_out" else ls[1]))
        for layer, site in order:
            if site == "resid_out":
                layer_saved[layer] = model.read_site("resid", layer).save()
            else:
                saved[(site, layer)] = model.read_site(site, layer).save()
        saved["logits"] = model.read_logits().save()
    logp = frame_logprobs(model, inputs, saved["logits"])
    pooled = {key: _pool(model, inputs, saved[(key[0], key[1])]) for key in metric.reads()}
    ctx = MetricContext(targets=inputs.codes if targets is None else targets,
                        reference=logp[0] if reference is None else reference, reads=pooled)
    values = metric(logp, ctx)[0]
    acts = {key: saved[key] for key in sites}
    return Recorded(logp[0], values, layer_saved, acts)


def _chunks(cells: list[Cell], max_cells: int, n_layers: int, skip_prefix: bool) -> list[list[int]]:
    """Cell indices grouped into chunks; with ``skip_prefix`` cells with close first layers go together.

    Cells are taken latest-first-layer first; a cell joins the current chunk while
    lowering the chunk's first layer costs its cells fewer extra layer passes
    than a new trace would (about one full forward).
    """
    order = sorted(range(len(cells)), key=lambda i: -cells[i].first_layer) if skip_prefix else list(range(len(cells)))
    out: list[list[int]] = []
    low = n_layers
    for i in order:
        first = cells[i].first_layer
        if out and len(out[-1]) < max_cells and (not skip_prefix or len(out[-1]) * (low - first) <= n_layers):
            out[-1].append(i)
            low = min(low, first)
        else:
            out.append([i])
            low = first
    return out


@torch.no_grad()
def run_cells(model: MusicGen, inputs: TeacherForced, cells: Sequence[Cell], setter: Setter, metric: Metric, *,
              base: Recorded | None = None, reference: torch.Tensor | None = None,
              targets: torch.Tensor | None = None, rows: str = "both", max_rows: int = 32, batched: bool = True,
              skip_prefix: bool = True, progress: bool = False, desc: str = "cells") -> torch.Tensor:
    """Metric values for every cell: ``(N,)`` or ``(N, K)`` (per-codebook metrics).

    ``base`` (the unedited run with layer outputs) enables prefix skipping; it is
    recorded here when missing. ``batched=False`` runs one full trace per cell.
    """
    refuse_active_steering(model, "ablation/patching", _UNSTEERED)
    cells = list(cells)
    rows_sel = inputs.row_slice(rows)
    reads = metric.reads()
    skip_prefix = skip_prefix and batched
    if skip_prefix and (base is None or not base.layer_out):
        base = record(model, inputs, metric, layer_outputs=True, reference=reference, targets=targets)
    enc = encode_text(model, inputs) if batched else None
    max_cells = max(1, max_rows // inputs.rows_per_cell) if batched else 1
    chunks = _chunks(cells, max_cells, model.n_layers, skip_prefix)
    ctx = MetricContext(targets=inputs.codes if targets is None else targets, reference=reference)
    results: dict[int, torch.Tensor] = {}
    for chunk in tqdm(chunks, desc=desc, disable=not progress, leave=False):
        chunk_cells = [cells[i] for i in chunk]
        low = min([c.first_layer for c in chunk_cells] + [layer for _, layer in reads]) if skip_prefix else 0
        prefix = base.layer_out[low - 1].repeat(len(chunk), 1, 1) if low > 0 else None
        values = _run_chunk(model, inputs, chunk_cells, setter, metric, ctx, rows_sel, low, prefix, enc)
        for i, v in zip(chunk, values, strict=True):
            results[i] = v
    return torch.stack([results[i] for i in range(len(cells))]) if cells else torch.empty(0)


def _run_chunk(model: MusicGen, inputs: TeacherForced, cells: list[Cell], setter: Setter, metric: Metric,
               ctx: MetricContext, rows_sel: slice, low: int, prefix: torch.Tensor | None,
               enc: torch.Tensor | None) -> torch.Tensor:
    r = inputs.rows_per_cell
    edits: dict[tuple[int, str], list[tuple[int, Target]]] = {}
    keys: set[tuple[int, str]] = {(layer, site) for site, layer in metric.reads()}
    for c, cell in enumerate(cells):
        for t in cell.targets:
            edits.setdefault((t.layer, t.write_site), []).append((c, t))
            keys.add((t.layer, t.write_site))
            if t.site == LAYER:
                keys.add((t.layer, "layer_in"))
    order = sorted(keys, key=lambda k: execution_key(*k))
    reads = set(metric.reads())
    saved: dict = {}
    with model.nn.trace(**cell_kwargs(model, inputs, len(cells), enc)):
        for layer in range(low):
            model.skip_layer(layer, prefix)
        layer_in: dict[int, torch.Tensor] = {}
        for layer, site in order:
            if site == "layer_in":
                layer_in[layer] = model.read_layer_input(layer)
                continue
            value = model.read_site(site, layer)
            group = edits.get((layer, site))
            if group:
                value = value.clone()
                for c, t in group:
                    rs = slice(c * r + rows_sel.start, c * r + rows_sel.stop)
                    block = value[rs]
                    sctx = SetterContext(cells[c], rows_sel, layer_in[layer][rs] if t.site == LAYER else None)
                    value[rs] = assign(block, setter(block, t, sctx), t)
                model.write_site(site, layer, value)
            if (site, layer) in reads:
                saved[(site, layer)] = _pool(model, inputs, value).save()
        saved["logits"] = model.read_logits().save()
    logp = frame_logprobs(model, inputs, saved["logits"])
    ctx = MetricContext(ctx.targets, ctx.reference, {k: v for k, v in saved.items() if k != "logits"})
    return metric(logp, ctx)
