"""What a collection is (its request, recorded in the store) and how it is cut into chunks.

The request identifies the data: model fingerprint, a digest of the concept set
(ids, labels, groups, splits and content: codes, prompts, or the bytes of its
audio files), sites, frames, dtype, branch. The chunk plan follows from the
memory budget and never from timing, so a resumed collection cuts clips exactly
where the first attempt did.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data.concept_set import ConceptSet
from ..data.content import file_content_digest
from ..data.splits import grouped_stratified_split
from ..engine.frames import FrameSpec, select_positions
from ..models.musicgen import MusicGen

# Transient memory of one decoder forward per position, in model-dtype elements per
# d_model (hidden states, q/k/v, MLP, residual) on top of the attention scores. The
# output heads' logits are never computed: the trace stops after its last read.
FORWARD_WIDTHS = 12
# Resident memory per byte of live tensors while a chunk is written and the next one
# traced: the allocator's free-but-kept pages and the overlap of one chunk's frees with
# the next one's allocations. Measured on random-small (chunks of 3 clips, attn_z + resid,
# freed pages handed back after every chunk): peaks of 410-490 MB for 290 MB planned.
ALLOCATOR_SLACK = 1.6


def concept_set_digest(cs: ConceptSet) -> str:
    """SHA-256 (16 hex digits) of everything in a concept set that shapes a store.

    Audio clips enter by the SHA-256 of their files' bytes (:mod:`musicinterp.data.content`, cached per file
    by size, inode and modification time), with their offsets and durations; not by their paths.
    """
    h = hashlib.sha256()

    def add(tag: str, data: bytes) -> None:
        h.update(f"{tag}:{len(data)}:".encode())
        h.update(data)

    add("kind", cs.kind.encode())
    add("ids", "\n".join(cs.ids).encode())
    add("groups", "\n".join(cs.groups).encode())
    add("splits", json.dumps(cs.splits).encode())
    for concept in sorted(cs.labels):
        add(f"label/{concept}", np.ascontiguousarray(cs.labels[concept].double().numpy()).tobytes())
    if cs.codes is not None:
        for codes in cs.codes:
            c = torch.as_tensor(codes).long()
            add("codes", json.dumps(list(c.shape)).encode() + c.contiguous().numpy().tobytes())
    if cs.audio is not None:  # the files' content (not their paths): replaced or fixed audio is a new request
        add("audio", json.dumps([[file_content_digest(a.path), a.offset_s, a.duration_s] for a in cs.audio]).encode())
    if cs.prompts is not None:
        add("prompts", json.dumps(cs.prompts).encode())
    return h.hexdigest()[:16]


def chunk_seed(ids: Sequence[str], seed: int) -> int:
    """A generation seed from the ids of a chunk's examples: independent of which process runs it."""
    digest = hashlib.sha256(f"{seed}\n".encode() + "\n".join(ids).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def splits_of(cs: ConceptSet, concepts: list[str], seed: int) -> list[str]:
    return cs.splits or grouped_stratified_split(cs.labels[concepts[0]].tolist(), cs.groups, seed=seed)


def base_config(model: MusicGen, cs: ConceptSet, sites: Sequence[str], dtype: torch.dtype, seed: int,
                num_processes: int) -> dict[str, Any]:
    """The request fields every collection records."""
    from .._version import __version__

    return {
        "model_id": model.name, "model_fingerprint": model.fingerprint, "model_source": model.source,
        "concept_set": cs.name, "concept_set_kind": cs.kind, "concept_set_digest": concept_set_digest(cs),
        "concepts": sorted(cs.labels), "sites": list(sites), "n_layers": model.n_layers,
        "site_shapes": {s: list(model.site_shape(s)) for s in sites},
        "dtype": str(dtype).replace("torch.", ""), "seed": seed, "num_processes": num_processes,
        "package_version": __version__,
    }


@dataclass(frozen=True)
class ChunkPlan:
    """Clips ``[i * clips_per_chunk, (i + 1) * clips_per_chunk)`` form chunk ``i``."""

    n_clips: int
    clips_per_chunk: int
    batch_size: int
    in_flight: int  # chunks alive at once: 2 overlaps writing with the next forward, 1 does not
    budget_bytes: float = 0.0  # the memory budget the plan keeps to (0: unknown, hand freed pages back always)
    planned_bytes: float = 0.0  # live tensors of the chunks in flight, as planned

    @property
    def trim_allowance(self) -> float:
        """Resident growth tolerated before freed pages are handed back: what the budget leaves beside the
        planned live tensors and the allocator's slack over them (0 when the plan fills the budget)."""
        return max(0.0, self.budget_bytes - ALLOCATOR_SLACK * self.planned_bytes)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_clips / self.clips_per_chunk)

    def bounds(self, chunk: int) -> tuple[int, int]:
        lo = chunk * self.clips_per_chunk
        return lo, min(self.n_clips, lo + self.clips_per_chunk)


def max_frames(model: MusicGen, cs: ConceptSet) -> int:
    """Longest clip in frames (planning only); unknown audio lengths count as 30 s."""
    if cs.codes is not None:
        return max(int(torch.as_tensor(c).shape[-1]) for c in cs.codes)
    durations = [a.duration_s for a in cs.audio or []]
    if durations and all(d is not None for d in durations):
        return int(max(durations) * model.frame_rate) + 1
    return 30 * model.frame_rate


def plan_clips(model: MusicGen, cs: ConceptSet, sites: Sequence[str], frames: FrameSpec, dtype: torch.dtype,
               batch_size: int, budget_mb: float, num_processes: int) -> ChunkPlan:
    """Chunk size and overlap that keep collection memory within ``budget_mb``.

    Per clip: ``held`` bytes stay alive while a chunk is written (frames and pooled
    views in the store dtype); ``build`` bytes are needed while a chunk is traced
    (the positions read inside the trace, a converted copy when the store dtype or
    selection differs, and the forward's own transients up to the last layer read). Two chunks in flight
    need ``held + build`` per clip; one needs ``build``. The budget is divided by
    :data:`ALLOCATOR_SLACK` first: resident memory runs above the live tensors.
    """
    t = max_frames(model, cs)
    seq = model.sequence_length(t)
    n_valid = len(model.valid_positions(t))
    read = seq if frames == "all" else n_valid
    stored = 0 if frames == "pooled" else len(select_positions(frames, t, model.n_codebooks))
    width = model.n_layers * sum(math.prod(model.site_shape(s)) for s in sites)
    e_model = torch.empty(0, dtype=model.dtype).element_size()
    e_store = torch.empty(0, dtype=dtype).element_size()
    held = stored * width * e_store + 2 * width * 4
    aliased = frames in ("valid", "all") and dtype == model.dtype
    build = (read * width * e_model + (0 if aliased else held)
             + seq * (FORWARD_WIDTHS * model.d_model + model.n_heads * seq) * e_model)
    budget = budget_mb * 2**20 / ALLOCATOR_SLACK
    per_process = math.ceil(len(cs) / max(1, num_processes))
    if budget >= held + build:
        m = max(1, min(batch_size, int(budget // (held + build)), per_process))
        return ChunkPlan(len(cs), m, m, in_flight=2, budget_bytes=budget_mb * 2**20, planned_bytes=m * (held + build))
    if build > budget:
        warnings.warn(f"one clip of {t} frames needs about {build / 2**20:.0f} MB to collect, more than the "
                      f"memory budget of {budget_mb:.0f} MB; collecting one clip at a time", stacklevel=3)
    return ChunkPlan(len(cs), 1, 1, in_flight=1, budget_bytes=budget_mb * 2**20, planned_bytes=build)
