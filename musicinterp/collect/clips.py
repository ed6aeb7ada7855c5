"""``collect``: trace a concept set's clips, teacher-forced, into an activation store.

Clips (codes, or audio encoded with the model's codec) are traced in batches;
every layer of each requested site is read at the valid positions only (picked
inside the trace), pooled views (mean over valid frames, last valid frame) are
computed per clip, and each chunk goes to a writer thread that stores it while
the next chunk runs through the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.audio import AudioError, load_audio
from ..data.concept_set import ConceptSet
from ..engine.frames import FrameSpec, select_positions
from ..errors import InputError
from ..models.loading import resolve_dtype
from ..models.musicgen import Conditioning, MusicGen
from ..models.sites import get_site
from ..store.errors import BadEntryError
from ..store.reader import ActivationStore
from ..store.writer import Chunk
from . import trace
from .distributed import processes
from .request import ChunkPlan, base_config, plan_clips, splits_of
from .rows import binary_concepts, binary_labels, check_kept, clip_row, frame_rows
from .run import run_collection


@dataclass
class _Clip:
    index: int
    codes: torch.Tensor  # (K, T)
    info: dict[str, Any]


def _load_clip(model: MusicGen, cs: ConceptSet, i: int) -> _Clip:
    """Codes of example ``i`` (encoding audio when needed); raises BadEntryError naming the entry."""
    entry = cs.ids[i]
    if cs.codes is not None:
        codes = torch.as_tensor(cs.codes[i])
        if codes.dim() != 2 or codes.shape[0] != model.n_codebooks:
            raise BadEntryError(f"entry {entry!r}: codes must be ({model.n_codebooks}, T), got {tuple(codes.shape)}")
        info: dict[str, Any] = {}
    else:
        ref = cs.audio[i]
        try:
            audio = load_audio(ref.path, model.sample_rate, offset_s=ref.offset_s, duration_s=ref.duration_s)
        except AudioError as err:
            raise BadEntryError(f"entry {entry!r}: {err}") from err
        codes = model.audio_to_codes(audio.samples)[0]
        info = {"resampled_from": audio.source_rate if audio.resampled else None,
                "downmixed_from": audio.source_channels if audio.downmixed else None}
    if len(model.valid_positions(codes.shape[-1])) == 0:
        raise BadEntryError(f"entry {entry!r}: {codes.shape[-1]} frames is too short: the delay pattern "
                            f"needs at least {model.n_codebooks} frames")
    return _Clip(i, codes.long(), info)


@dataclass
class _ClipJob:
    """Builds chunk ``i`` of a clip collection (runs on the producing thread)."""

    model: MusicGen
    cs: ConceptSet
    sites: list[str]
    frames: FrameSpec
    dtype: torch.dtype
    plan: ChunkPlan
    cond: Conditioning | None
    skip_bad: bool
    concepts: list[str]
    splits: list[str]
    branch: str

    def chunk(self, index: int) -> Chunk:
        lo, hi = self.plan.bounds(index)
        clips, skipped = [], []
        for i in range(lo, hi):
            try:
                clips.append(_load_clip(self.model, self.cs, i))
            except BadEntryError as err:
                if not self.skip_bad:
                    raise
                skipped.append({"id": self.cs.ids[i], "reason": str(err)})
        store_frames = self.frames != "pooled"
        pieces: dict[str, list[list[torch.Tensor]]] = {s: [[] for _ in range(self.model.n_layers)] for s in self.sites}
        means: dict[str, list[torch.Tensor]] = {s: [] for s in self.sites}
        lasts: dict[str, list[torch.Tensor]] = {s: [] for s in self.sites}
        kept: list[tuple[_Clip, torch.Tensor]] = []
        for batch in _batches(clips, self.plan.batch_size):
            batch_kept = self._trace_batch(batch, store_frames, pieces, means, lasts, skipped)
            kept.extend(batch_kept)
        idx = [c.index for c, _ in kept]
        counts = [len(p) for _, p in kept]
        frames_out = {s: [_join(p, self._empty(s)) for p in pieces[s]] for s in self.sites} if store_frames else {}
        pooled = {s: {"mean": _join(means[s], self._empty(s, layers=True)),
                      "last": _join(lasts[s], self._empty(s, layers=True))} for s in self.sites}
        binary = binary_concepts(self.cs, self.concepts)
        return Chunk(
            index=index, frames=frames_out, pooled=pooled,
            row_labels=binary_labels(self.cs, binary, idx, counts if store_frames else None),
            rows=frame_rows(self.cs, idx, [p.numpy() for _, p in kept], [self.branch] * len(idx), self.splits,
                            self.concepts) if store_frames else None,
            clips=[clip_row(self.cs, c.index, self.splits[c.index], self.concepts, len(p), c.codes.shape[-1], c.info)
                   for c, p in kept],
            skipped=skipped)

    def _empty(self, site: str, layers: bool = False) -> torch.Tensor:
        shape = (0, self.model.n_layers, *self.model.site_shape(site)) if layers else (0, *self.model.site_shape(site))
        return torch.empty(shape, dtype=self.dtype)

    def _trace_batch(self, batch: list[_Clip], store_frames: bool, pieces, means, lasts,
                     skipped: list[dict[str, str]]) -> list[tuple[_Clip, torch.Tensor]]:
        model, t = self.model, batch[0].codes.shape[-1]
        valid = model.valid_positions(t)
        read = torch.arange(model.sequence_length(t)) if self.frames == "all" else torch.arange(valid.start, valid.stop)
        stored = select_positions(self.frames, t, model.n_codebooks) if store_frames else read[:0]
        valid_rel = torch.arange(valid.start, valid.stop) - int(read[0])
        stored_rel = stored - int(read[0])
        whole_valid = len(valid_rel) == len(read)
        whole_stored = len(stored_rel) == len(read)
        bcond = None
        if self.cond is not None:
            bcond = Conditioning(self.cond.input_ids.expand(len(batch), -1),
                                 self.cond.attention_mask.expand(len(batch), -1))
        codes = torch.stack([c.codes for c in batch])
        values = trace.read_layers(model, codes, sites=self.sites, positions=read, cond=bcond)
        batch_means = {s: [(v if whole_valid else v[:, valid_rel]).float().mean(1).cpu() for v in values[s]]
                       for s in self.sites}
        bad = torch.zeros(len(batch), dtype=torch.bool)
        for s in self.sites:  # NaN/inf anywhere in the valid frames reaches their mean
            for layer, m in enumerate(batch_means[s]):
                bad |= ~torch.isfinite(m.reshape(len(batch), -1)).all(1)
                if not whole_valid:
                    bad |= ~torch.isfinite(values[s][layer].reshape(len(batch), -1)).all(1).cpu()
        keep = torch.nonzero(~bad).flatten()
        if bad.any():
            names = [self.cs.ids[batch[j].index] for j in torch.nonzero(bad).flatten().tolist()]
            if not self.skip_bad:
                raise BadEntryError(f"non-finite (NaN or inf) activations for entries {names}")
            skipped.extend({"id": nm, "reason": "non-finite activations"} for nm in names)
        if len(keep) == 0:
            return []
        every = len(keep) == len(batch)
        for s in self.sites:
            shape = model.site_shape(s)
            for layer, v in enumerate(values[s]):
                v = v if every else v[keep.to(v.device)]
                if store_frames:
                    sel = v if whole_stored else v[:, stored_rel.to(v.device)]
                    pieces[s][layer].append(sel.reshape(-1, *shape).to("cpu", self.dtype))
            means[s].append(torch.stack([m[keep] for m in batch_means[s]], 1).to(self.dtype))
            lasts[s].append(torch.stack([v[keep.to(v.device), int(valid_rel[-1])] for v in values[s]], 1)
                            .to("cpu", self.dtype))
        return [(batch[j], stored) for j in keep.tolist()]


def _batches(clips: list[_Clip], size: int):
    """Runs of consecutive clips of equal length, at most ``size`` each."""
    b = 0
    while b < len(clips):
        e = b + 1
        while e < len(clips) and e - b < size and clips[e].codes.shape[-1] == clips[b].codes.shape[-1]:
            e += 1
        yield clips[b:e]
        b = e


def _join(parts: list[torch.Tensor], empty: torch.Tensor) -> torch.Tensor:
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def collect(
    model: MusicGen,
    concept_set: ConceptSet,
    sites: Sequence[str] = ("attn_z", "resid"),
    *,
    out: str | Path,
    frames: FrameSpec | str = "valid",
    dtype: str | torch.dtype = "float32",
    batch_size: int = 8,
    memory_budget_mb: float = 512,
    text: str | None = None,
    skip_bad: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    seed: int = 0,
    distributed: bool = False,
    on_chunk_written: Callable[[int], None] | None = None,
) -> ActivationStore:
    """Collect ``sites`` for every clip of ``concept_set`` into the store at ``out``.

    ``frames``: which positions to keep per clip (``"valid"``, ``"last"``, ``"all"``,
    a window ``(a, b)``, or ``"pooled"`` to keep only the pooled probe view).
    Clips are traced with the null text condition (branch ``"uncond"``) unless
    ``text`` is given (branch ``"cond"``). The same request into the same folder
    returns the complete store (or resumes an interrupted one); a different
    request into a non-empty folder raises, naming what differs, unless
    ``overwrite``. Bad entries raise, or with ``skip_bad`` are skipped and
    recorded. ``distributed`` splits the clips over the processes of an
    ``accelerate launch``; ``on_chunk_written(chunk)`` runs after each chunk is
    committed to disk (on the writer thread).
    """
    if concept_set.kind == "prompts":
        raise InputError("prompt sets are collected with collect_prompts (they are traced through generation)")
    sites = list(sites)
    for site in sites:
        get_site(site)
        if site == "cross_z" and not model.has_cross_attention:
            raise InputError(f"model {model.name!r} has no cross-attention: no cross_z site")
    if isinstance(frames, list):
        frames = tuple(frames)
    if not (frames == "pooled" or isinstance(frames, tuple)):
        select_positions(frames, model.n_codebooks + 1, model.n_codebooks)  # raises on an unknown spec
    concept_set.check_concepts()
    store_dtype = resolve_dtype(dtype)
    procs = processes(distributed)
    concepts = sorted(concept_set.labels)
    plan = plan_clips(model, concept_set, sites, frames, store_dtype, batch_size, memory_budget_mb, procs.world)
    config = {
        **base_config(model, concept_set, sites, store_dtype, seed, procs.world), "kind": "clips",
        "n_clips": len(concept_set), "frames": list(frames) if isinstance(frames, tuple) else frames,
        "frames_stored": frames != "pooled", "branch": "cond" if text else "uncond", "text": text,
        "skip_bad": skip_bad, "clips_per_chunk": plan.clips_per_chunk, "batch_size": plan.batch_size,
        "n_chunks": plan.n_chunks,
    }
    job = _ClipJob(model, concept_set, sites, frames, store_dtype, plan,
                   model.conditioning(text=[text]) if text else None, skip_bad, concepts,
                   splits_of(concept_set, concepts, seed), config["branch"])
    return run_collection(out, config, plan, job.chunk, model=model, procs=procs, overwrite=overwrite,
                          progress=progress, desc=f"collecting {concept_set.name}",
                          check_clips=check_kept(concept_set.name, concepts), on_chunk_written=on_chunk_written)
