"""Activation patching during generation: the corrupt prompt's activations inside the clean prompt's run.

Teacher-forced patching asks whether a component carries a concept on fixed
clips; generation asks whether it decides the music. :func:`generate_patched`
generates from the clean and the corrupt prompts side by side (one doubled
batch, clean rows first) and, at every step, writes the corrupt rows' value of
the chosen heads or layers into the clean rows. The clean run then hears the
corrupt prompt through those components only: e.g. what "no drums" makes two
cross-attention heads say, in a run that asks for drums.

This differs from mean ablation. A store's mean of ``cross_z`` is collected
under the null condition, where cross-attention reads all-zero text states and
every head outputs exactly 0: mean ablation there tells the model "nothing was
said through this head", and the unconditional drum rate is the floor it can
reach. Patching puts the opposite instruction through the head instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from ..engine.active import refuse_active_steering
from ..engine.generation import GenerationResult, generate
from ..engine.interventions import Intervention, StepContext, StepWindow
from ..models.musicgen import MusicGen
from ..models.rows import ROWS
from .generation import resolve_targets
from .inputs import AblationInputError

_OWN_ARGS = ("text", "input_ids", "attention_mask", "batch", "prompt_audio")


@dataclass
class PatchedGeneration:
    """``patched``: the clean prompts with the corrupt activations patched in; ``corrupt``: the corrupt
    prompts' own generation, whose activations were copied (sampled in the same batch)."""

    patched: GenerationResult
    corrupt: GenerationResult


def copy_rows_fn(rows: str):
    """An edit that copies the corrupt half of each addressed block of rows into the clean half.

    The generation batch is ``[clean prompts | corrupt prompts]``; under CFG the decoder
    rows are that layout twice (conditional, then unconditional), so ``rows="both"``
    addresses two blocks and each is copied within itself.
    """

    def fn(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        block = ctx.batch  # prompts in the doubled batch: clean + corrupt
        half = block // 2
        if x.shape[0] % block:
            raise RuntimeError(f"patched generation expected rows in blocks of {block}, got {x.shape[0]}")
        out = x.clone()
        for start in range(0, x.shape[0], block):
            out[start:start + half] = x[start + half:start + block]
        return out

    fn.__name__ = f"patch-corrupt-rows-{rows}"
    return fn


def patch_interventions(model: MusicGen, *, site: str = "cross_z", heads: Sequence[tuple[int, int]] = (),
                        layers: Sequence[int] = (), rows: str = "both",
                        steps: StepWindow | None = None) -> list[Intervention]:
    """Interventions for a ``[clean | corrupt]`` generation batch: corrupt rows' values into the clean rows."""
    if rows not in ROWS:
        raise AblationInputError(f"rows must be one of {ROWS}, got {rows!r}")
    targets = resolve_targets(model, site, heads, layers)
    return [Intervention(site, layer, copy_rows_fn(rows), heads=hs, rows=rows, steps=steps or StepWindow(),
                         positions="all", name=f"patch-generation@{site}{layer}") for layer, hs in targets]


def _conditioning(model: MusicGen, clean: Any, corrupt: Any) -> tuple[dict[str, Any], int]:
    """Generate kwargs for the doubled batch, and the number of clean prompts."""
    if isinstance(clean, str):
        clean = [clean]
    if isinstance(corrupt, str):
        corrupt = [corrupt]
    if isinstance(clean, torch.Tensor) or isinstance(corrupt, torch.Tensor):
        if not (isinstance(clean, torch.Tensor) and isinstance(corrupt, torch.Tensor)):
            raise AblationInputError("corrupt: give clean and corrupt both as texts or both as token ids")
        if clean.dim() != 2 or tuple(clean.shape) != tuple(corrupt.shape):
            raise AblationInputError(f"corrupt: token ids of shape {tuple(corrupt.shape)} do not match clean "
                                     f"{tuple(clean.shape)} (both must be (B, L) with the same B and L)")
        return {"input_ids": torch.cat([clean, corrupt])}, int(clean.shape[0])
    clean, corrupt = list(clean), list(corrupt)
    if not clean or len(clean) != len(corrupt):
        raise AblationInputError(f"corrupt: {len(corrupt)} prompts for {len(clean)} clean prompts (give one "
                                 f"corrupt prompt per clean prompt)")
    return {"text": clean + corrupt}, len(clean)


def _split(result: GenerationResult, b: int) -> tuple[GenerationResult, GenerationResult]:
    """Clean rows and corrupt rows of a doubled-batch generation."""

    def part(lo: int, hi: int) -> GenerationResult:
        logits = result.logits
        if logits is not None:  # (steps, decoder rows, K, V): [clean | corrupt] once, or twice under CFG
            block = 2 * b
            logits = torch.cat([logits[:, s + lo:s + hi] for s in range(0, logits.shape[1], block)], dim=1)
        audio = None if result.audio is None else result.audio[lo:hi]
        return replace(result, codes=result.codes[lo:hi], audio=audio, logits=logits, logs={}, monitors={})

    return part(0, b), part(b, 2 * b)


def generate_patched(model: MusicGen, clean: Any, corrupt: Any, *, site: str = "cross_z",
                     heads: Sequence[tuple[int, int]] = (), layers: Sequence[int] = (), rows: str = "both",
                     steps: StepWindow | None = None, prompt_codes: torch.Tensor | None = None,
                     **generate_kwargs: Any) -> PatchedGeneration:
    """Generate from ``clean`` prompts with ``site`` at ``heads`` / ``layers`` taken from the ``corrupt`` run.

    ``clean`` / ``corrupt``: prompts (one corrupt per clean) or ``(B, L)`` token ids of one shape.
    ``rows``: the CFG rows patched (the null condition's ``cross_z`` is 0 in both runs, so for
    ``cross_z`` only the conditional rows differ). Other keywords go to :func:`musicinterp.generate`;
    with ``do_sample=False`` patching every ``cross_z`` head of every layer reproduces the corrupt
    prompt's own generation exactly (the text reaches the decoder through cross-attention only).
    """
    refuse_active_steering(model, "generate_patched", "steerers would also edit the corrupt rows whose values "
                           "are copied into the clean ones")
    for arg in _OWN_ARGS:
        if arg in generate_kwargs:
            raise AblationInputError(f"{arg}: generate_patched takes its prompts as clean= and corrupt=")
    if "interventions" in generate_kwargs:
        raise AblationInputError("interventions: generate_patched runs its own (the corrupt rows' values copied "
                                 "into the clean rows); other edits would also touch the corrupt rows")
    ivs = patch_interventions(model, site=site, heads=heads, layers=layers, rows=rows, steps=steps)
    cond, b = _conditioning(model, clean, corrupt)
    if prompt_codes is not None:
        prompt_codes = torch.as_tensor(prompt_codes)
        if prompt_codes.dim() == 3 and prompt_codes.shape[0] == b:
            prompt_codes = torch.cat([prompt_codes, prompt_codes])
    result = generate(model, **cond, prompt_codes=prompt_codes, interventions=ivs, **generate_kwargs)
    patched, source = _split(result, b)
    return PatchedGeneration(patched=patched, corrupt=source)
