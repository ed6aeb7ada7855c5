"""``collect_prompts``: trace text prompts through generation (with guidance) into a store.

Each chunk is one generation batch of ``batch_size`` prompts, seeded from the
prompts' ids, so a chunk's activations are the same whichever process runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.concept_set import ConceptSet
from ..errors import InputError
from ..models.loading import resolve_dtype
from ..models.musicgen import MusicGen
from ..models.sites import get_site
from ..store.reader import ActivationStore
from ..store.writer import Chunk
from .distributed import processes
from .request import ChunkPlan, base_config, chunk_seed, splits_of
from .rows import binary_concepts, binary_labels, check_kept, clip_row, frame_rows
from .run import run_collection


def _append_newest(bucket: list[torch.Tensor]):
    """A read-only intervention body that keeps each step's newest position."""

    def read(value: torch.Tensor, ctx: Any) -> None:
        bucket.append(value[:, -1].detach().clone())

    return read


@dataclass
class _PromptJob:
    model: MusicGen
    cs: ConceptSet
    sites: list[str]
    n_steps: int
    frames: str
    branches: list[str]
    dtype: torch.dtype
    plan: ChunkPlan
    seed: int
    concepts: list[str]
    splits: list[str]

    def chunk(self, index: int) -> Chunk:
        from ..engine.generation import generate
        from ..engine.interventions import apply_fn

        model, cs = self.model, self.cs
        lo, hi = self.plan.bounds(index)
        idx = list(range(lo, hi))
        reads: dict[tuple[str, int], list[torch.Tensor]] = {(s, layer): [] for s in self.sites
                                                            for layer in range(model.n_layers)}
        ivs = [apply_fn(s, layer, _append_newest(reads[(s, layer)]), rows="both")
               for s in self.sites for layer in range(model.n_layers)]
        generate(model, text=[cs.prompts[i] for i in idx], max_new_tokens=self.n_steps,
                 seed=chunk_seed([cs.ids[i] for i in idx], self.seed), interventions=ivs, decode_audio=False)
        keep_frames = self.frames == "all"
        frames: dict[str, list[torch.Tensor]] = {s: [] for s in self.sites} if keep_frames else {}
        pooled: dict[str, dict[str, torch.Tensor]] = {}
        for s in self.sites:
            per_branch: dict[int, list[torch.Tensor]] = {}
            for layer in range(model.n_layers):
                steps = torch.stack(reads.pop((s, layer)), dim=1)  # (2B, steps, ...)
                per_branch[layer] = [model.cfg_rows(steps, len(idx), br) for br in self.branches]
                if keep_frames:
                    x = torch.cat(per_branch[layer])  # (branches * B, steps, ...), branch-major
                    frames[s].append(x.reshape(-1, *x.shape[2:]).to("cpu", self.dtype))
            mean = [torch.cat([v.float().mean(1) for v in per_branch[layer]]) for layer in range(model.n_layers)]
            last = [torch.cat([v[:, -1] for v in per_branch[layer]]) for layer in range(model.n_layers)]
            pooled[s] = {"mean": torch.stack(mean, 1).to("cpu", self.dtype),
                         "last": torch.stack(last, 1).to("cpu", self.dtype)}
        steps_per = self.n_steps if keep_frames else 0
        clip_rows, order, branches = [], [], []
        for br in self.branches:
            for i in idx:
                row = clip_row(cs, i, self.splits[i], self.concepts, steps_per, self.n_steps)
                if len(self.branches) > 1:
                    row["clip_id"] = f"{cs.ids[i]}#{br}"
                row["branch"], row["prompt"] = br, cs.prompts[i]
                clip_rows.append(row)
                order.append(i)
                branches.append(br)
        binary = binary_concepts(cs, self.concepts)
        rows = None
        if keep_frames:
            rows = frame_rows(cs, order, [np.arange(steps_per)] * len(order), branches, self.splits, self.concepts)
        return Chunk(index=index, frames=frames, pooled=pooled,
                     row_labels=binary_labels(cs, binary, order, [steps_per] * len(order) if keep_frames else None),
                     rows=rows, clips=clip_rows)


def collect_prompts(
    model: MusicGen,
    concept_set: ConceptSet,
    sites: Sequence[str] = ("resid",),
    *,
    out: str | Path,
    n_steps: int = 50,
    frames: str = "all",
    branch: str = "cond",
    dtype: str | torch.dtype = "float32",
    batch_size: int = 8,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    distributed: bool = False,
    on_chunk_written: Callable[[int], None] | None = None,
) -> ActivationStore:
    """Trace text prompts through ``n_steps`` of generation (with CFG) into a store.

    Each generation step's newest position is read at every layer of ``sites``.
    ``frames="all"`` keeps every step, ``"pooled"`` only the pooled view (mean over
    steps, last step). ``branch`` picks the CFG rows kept: ``"cond"``, ``"uncond"``,
    or ``"both"`` (each prompt then gives two clips, ``<id>#cond`` and ``<id>#uncond``).
    Reuse, resume, ``distributed`` and ``on_chunk_written`` work as in ``collect``.
    """
    if concept_set.kind != "prompts":
        raise InputError(f"collect_prompts needs a prompt set; {concept_set.name!r} holds {concept_set.kind}")
    if branch not in ("cond", "uncond", "both"):
        raise InputError(f"branch must be 'cond', 'uncond' or 'both', got {branch!r}")
    if frames not in ("all", "pooled"):
        raise InputError(f"prompt sets keep frames='all' (every step) or 'pooled', got {frames!r}")
    if n_steps < 1:
        raise InputError(f"n_steps must be >= 1, got {n_steps}")
    sites = list(sites)
    for site in sites:
        get_site(site)
    concept_set.check_concepts()
    store_dtype = resolve_dtype(dtype)
    procs = processes(distributed)
    concepts = sorted(concept_set.labels)
    branches = ["cond", "uncond"] if branch == "both" else [branch]
    batch_size = max(1, batch_size)
    plan = ChunkPlan(len(concept_set), batch_size, batch_size, in_flight=2)
    config = {
        **base_config(model, concept_set, sites, store_dtype, seed, procs.world), "kind": "prompts",
        "n_clips": len(concept_set) * len(branches), "frames": frames, "frames_stored": frames == "all",
        "branch": branch, "text": None, "n_steps": n_steps, "skip_bad": False, "clips_per_chunk": batch_size,
        "batch_size": batch_size, "n_chunks": plan.n_chunks,
    }
    job = _PromptJob(model, concept_set, sites, n_steps, frames, branches, store_dtype, plan, seed, concepts,
                     splits_of(concept_set, concepts, seed))
    return run_collection(out, config, plan, job.chunk, model=model, procs=procs, overwrite=overwrite,
                          progress=progress, desc=f"collecting {concept_set.name}",
                          check_clips=check_kept(concept_set.name, concepts), on_chunk_written=on_chunk_written)
