"""``collect``: trace a concept set through the model into an activation store.

Clips (codes, or audio encoded with the model's codec) are traced teacher-forced
in batches; every layer of each requested site is read, frames are kept per
the frame policy, pooled views (mean over valid frames, last valid frame) are
computed per clip, and chunks stream to disk through a :class:`StoreWriter`.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import torch
from tqdm.auto import tqdm

from . import __version__
from .data.audio import AudioError, load_audio
from .data.concept_set import ConceptSet
from .frames import FrameSpec, select_positions
from .models.delay import valid_positions
from .models.loading import resolve_dtype
from .models.musicgen import MusicGen
from .models.sites import get_site
from .splits import grouped_stratified_split
from .store import layout as LY
from .store.errors import BadEntryError
from .store.reader import ActivationStore
from .store.stats import SiteStats
from .store.writer import StoreWriter
from .tracing import trace_codes

# A test hook: SIGKILL this process right after committing this chunk (and while
# writing the next), to prove collections resume exactly.
_KILL_AFTER_CHUNK = "MUSICINTERP_TEST_KILL_AFTER_CHUNK"


@dataclass
class _Clip:
    index: int
    codes: torch.Tensor  # (K, T)
    audio_info: dict[str, Any]


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
        min_samples = model.n_codebooks * model.sample_rate // model.frame_rate
        if audio.samples.shape[0] < min_samples:
            raise BadEntryError(f"entry {entry!r}: audio {ref.path} is too short ({audio.samples.shape[0]} samples; "
                                f"needs at least {model.n_codebooks} frames)")
        codes = model.audio_to_codes(audio.samples)[0]
        info = {"resampled_from": audio.source_rate if audio.resampled else None,
                "downmixed_from": audio.source_channels if audio.downmixed else None}
    if codes.shape[-1] < model.n_codebooks:
        raise BadEntryError(f"entry {entry!r}: {codes.shape[-1]} frames is shorter than the {model.n_codebooks}-frame delay")
    return _Clip(i, codes.long(), info)


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
) -> ActivationStore:
    """Collect ``sites`` for every clip of ``concept_set`` into the store at ``out``.

    ``frames``: which positions to keep per clip (``"valid"``, ``"last"``, ``"all"``,
    a window ``(a, b)``, or ``"pooled"`` to keep only the pooled probe view).
    Clips are traced with the null text condition (branch ``"uncond"``) unless
    ``text`` is given (branch ``"cond"``). An interrupted collection into the
    same folder resumes; bad entries raise, or with ``skip_bad`` are skipped and
    recorded in the metadata.
    """
    if concept_set.kind == "prompts":
        raise ValueError("prompt sets are collected with collect_prompts (they are traced through generation)")
    for site in sites:
        get_site(site)
        if site == "cross_z" and not model.has_cross_attention:
            raise ValueError(f"model {model.name!r} has no cross-attention: no cross_z site")
    concept_set.check_concepts()
    store_dtype = resolve_dtype(dtype)
    n = len(concept_set)
    concepts = sorted(concept_set.labels)
    splits = concept_set.splits or grouped_stratified_split(
        concept_set.labels[concepts[0]].tolist(), concept_set.groups, seed=seed)
    per_clip_frames = _max_frames(model, concept_set)
    store_frames = frames != "pooled"
    n_pos = len(select_positions(frames, per_clip_frames, model.n_codebooks)) if store_frames else 0
    width = sum(model.n_layers * _numel(model, s) for s in sites)
    clip_bytes = (n_pos + 2) * width * torch.tensor([], dtype=store_dtype).element_size()
    trace_bytes = (per_clip_frames + model.n_codebooks) * width * 4 * 2  # fp32 trace output + selection copies
    budget = memory_budget_mb * 2**20
    clips_per_chunk = max(1, int(budget // (clip_bytes + trace_bytes)))
    batch_size = max(1, min(batch_size, clips_per_chunk))
    config = {
        "model_id": model.name, "model_fingerprint": model.fingerprint, "model_source": model.source,
        "concept_set": concept_set.name, "concept_set_kind": concept_set.kind, "n_clips": n,
        "clip_ids_digest": _digest(concept_set.ids), "concepts": concepts, "sites": list(sites),
        "n_layers": model.n_layers, "site_shapes": {s: list(model.site_shape(s)) for s in sites},
        "dtype": str(store_dtype).replace("torch.", ""), "frames": frames if isinstance(frames, str) else list(frames),
        "frames_stored": store_frames, "branch": "cond" if text else "uncond", "text": text,
        "clips_per_chunk": clips_per_chunk, "batch_size": batch_size, "package_version": __version__,
    }
    writer = StoreWriter(out, config, overwrite=overwrite)
    cond = model.conditioning(text=[text]) if text else None
    n_chunks = (n + clips_per_chunk - 1) // clips_per_chunk
    kill_after = int(os.environ.get(_KILL_AFTER_CHUNK, "-1"))
    bar = tqdm(total=n, desc=f"collecting {concept_set.name}", disable=not progress,
               initial=min(n, writer.chunks_done * clips_per_chunk))
    clip_rows = _clip_rows_done(writer)
    for chunk in range(writer.chunks_done, n_chunks):
        lo, hi = chunk * clips_per_chunk, min(n, (chunk + 1) * clips_per_chunk)
        result = _collect_chunk(model, concept_set, range(lo, hi), sites, frames, store_frames, store_dtype,
                                batch_size, cond, skip_bad, concepts, splits, config["branch"])
        writer.write_chunk(chunk, result["frames"], result["pooled"], result["rows"], result["stats"], result["skipped"])
        clip_rows.extend(result["clip_rows"])
        bar.update(hi - lo)
        if chunk == kill_after:  # die after this commit, part-way into the next chunk's files
            partial = LY.shard_path(writer.root, sites[0], 0, chunk + 1)
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(b"partial")
            os.kill(os.getpid(), signal.SIGKILL)
    bar.close()
    if not clip_rows:
        raise BadEntryError(f"no usable entries in concept set {concept_set.name!r}")
    for concept in concepts:
        if len({r[f"label_{concept}"] for r in clip_rows}) < 2:
            raise BadEntryError(f"after skipping bad entries, concept {concept!r} has a single class")
    return _finish(writer, clip_rows, store_frames, model)


def _numel(model: MusicGen, site: str) -> int:
    out = 1
    for d in model.site_shape(site):
        out *= d
    return out


def _digest(ids: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def _max_frames(model: MusicGen, cs: ConceptSet) -> int:
    if cs.codes is not None:
        return max(int(torch.as_tensor(c).shape[-1]) for c in cs.codes)
    durations = [a.duration_s for a in cs.audio]
    if all(d is not None for d in durations):
        return int(max(durations) * model.frame_rate) + 1
    return 30 * model.frame_rate  # unknown lengths: plan for 30 s clips


def _clip_row(cs: ConceptSet, i: int, splits: list[str], concepts: list[str], n_rows: int,
              n_frames: int, info: dict[str, Any]) -> dict[str, Any]:
    row = {"clip_id": cs.ids[i], "clip_index": i, "group": cs.groups[i], "split": splits[i],
           "n_frames": n_frames, "n_rows": n_rows, "first_row": 0,
           "resampled_from": info.get("resampled_from"), "downmixed_from": info.get("downmixed_from")}
    for c in concepts:
        row[f"label_{c}"] = float(cs.labels[c][i])
    return row


def _row_table(cs: ConceptSet, row_clip: list[int], row_pos: list[int], row_branch: list[str], splits: list[str],
               concepts: list[str], clip_rows: list[dict[str, Any]]) -> pa.Table:
    """A chunk's frame-row index; its clip rows ride along in the schema metadata (for resumes)."""
    columns = {
        "clip_index": pa.array(row_clip, pa.int64()), "position": pa.array(row_pos, pa.int32()),
        "clip_id": pa.array([cs.ids[i] for i in row_clip], pa.string()),
        "split": pa.array([splits[i] for i in row_clip], pa.string()),
        "branch": pa.array(row_branch, pa.string()),
    }
    for c in concepts:
        columns[f"label_{c}"] = pa.array([float(cs.labels[c][i]) for i in row_clip], pa.float32())
    return pa.Table.from_pydict(columns).replace_schema_metadata({"clip_rows": json.dumps(clip_rows)})


def _finish(writer: StoreWriter, clip_rows: list[dict[str, Any]], frames_stored: bool, model: MusicGen
            ) -> ActivationStore:
    """Give clips their global frame-row offsets, finalize the store and open it (verified)."""
    first = 0
    for r in clip_rows:
        r["first_row"], first = first, first + r["n_rows"]
    writer.finalize(pa.Table.from_pylist(clip_rows), {"n_rows": first, "n_clips_kept": len(clip_rows),
                                                      "stats_rows": "frames" if frames_stored else "pooled_mean"})
    return ActivationStore.open(writer.root, model=model)


def _clip_rows_done(writer: StoreWriter) -> list[dict[str, Any]]:
    """Clip rows of chunks committed before a resume (kept in each chunk's row-table metadata)."""
    rows: list[dict[str, Any]] = []
    for chunk in range(writer.chunks_done):
        meta = pq.read_schema(LY.chunk_rows_path(writer.root, chunk)).metadata or {}
        rows.extend(json.loads(meta.get(b"clip_rows", b"[]")))
    return rows


@torch.no_grad()
def _collect_chunk(model: MusicGen, cs: ConceptSet, indices: range, sites: Sequence[str], frames: FrameSpec,
                   store_frames: bool, store_dtype: torch.dtype, batch_size: int, cond, skip_bad: bool,
                   concepts: list[str], splits: list[str], branch: str) -> dict[str, Any]:
    clips: list[_Clip] = []
    skipped: list[dict[str, str]] = []
    for i in indices:
        try:
            clips.append(_load_clip(model, cs, i))
        except BadEntryError as err:
            if not skip_bad:
                raise
            skipped.append({"id": cs.ids[i], "reason": str(err)})
    frame_parts: dict[str, list[torch.Tensor]] = {s: [] for s in sites}
    pooled_parts: dict[str, dict[str, list[torch.Tensor]]] = {s: {"mean": [], "last": []} for s in sites}
    row_clip, row_pos, clip_rows = [], [], []
    k = model.n_codebooks
    b = 0
    while b < len(clips):
        t = clips[b].codes.shape[-1]
        e = b + 1
        while e < len(clips) and e - b < batch_size and clips[e].codes.shape[-1] == t:
            e += 1
        batch = clips[b:e]
        codes = torch.stack([c.codes for c in batch])
        bcond = None
        if cond is not None:
            bcond = type(cond)(cond.input_ids.expand(len(batch), -1), cond.attention_mask.expand(len(batch), -1))
        res = trace_codes(model, codes, cond=bcond, read=list(sites), frames="all", logits=False)
        bad = _non_finite(res.activations)
        if bad.any():
            names = [cs.ids[batch[j].index] for j in torch.nonzero(bad).flatten().tolist()]
            if not skip_bad:
                raise BadEntryError(f"non-finite (NaN or inf) activations for entries {names}")
            skipped.extend({"id": nm, "reason": "non-finite activations"} for nm in names)
            keep = [j for j in range(len(batch)) if not bad[j]]
            batch = [batch[j] for j in keep]
            res.activations = {s: v[keep] for s, v in res.activations.items()}
        valid = torch.arange(valid_positions(t, k).start, valid_positions(t, k).stop)
        stored = select_positions(frames, t, k) if store_frames else torch.empty(0, dtype=torch.long)
        for s in sites:
            act = res.activations[s]  # (B, L, S, ...)
            pooled_parts[s]["mean"].append(act[:, :, valid].float().mean(2).to(store_dtype))
            pooled_parts[s]["last"].append(act[:, :, valid[-1]].to(store_dtype))
            if store_frames:
                sel = act[:, :, stored].transpose(1, 2)  # (B, P, L, ...)
                frame_parts[s].append(sel.reshape(-1, *sel.shape[2:]).to(store_dtype))
        for clip in batch:
            clip_rows.append(_clip_row(cs, clip.index, splits, concepts, len(stored), t, clip.audio_info))
            row_clip.extend([clip.index] * len(stored))
            row_pos.extend(stored.tolist())
        b = e
    out_frames = {s: torch.cat(v) for s, v in frame_parts.items() if store_frames and v}
    pooled = {s: {p: torch.cat(v[p]) for p in v} for s, v in pooled_parts.items() if v["mean"]}
    stats: dict[str, SiteStats] = {}
    if store_frames and out_frames:
        frame_labels = {c: cs.labels[c][torch.tensor(row_clip)] for c in concepts}
        for s, x in out_frames.items():
            stats[s] = SiteStats()
            stats[s].update(x.reshape(x.shape[0], x.shape[1], -1), _binary(frame_labels))
    else:
        clip_labels = {c: cs.labels[c][torch.tensor([r["clip_index"] for r in clip_rows])] for c in concepts}
        for s, v in pooled.items():
            stats[s] = SiteStats()
            stats[s].update(v["mean"].reshape(v["mean"].shape[0], v["mean"].shape[1], -1), _binary(clip_labels))
    rows = _row_table(cs, row_clip, row_pos, [branch] * len(row_clip), splits, concepts, clip_rows)
    return {"frames": out_frames, "pooled": pooled, "rows": rows, "stats": stats, "skipped": skipped,
            "clip_rows": clip_rows}


def _binary(labels: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {c: v.long() for c, v in labels.items() if set(torch.unique(v).tolist()) <= {0.0, 1.0}}


def _non_finite(activations: dict[str, torch.Tensor]) -> torch.Tensor:
    bad = None
    for v in activations.values():
        b = ~torch.isfinite(v.reshape(v.shape[0], -1)).all(1)
        bad = b if bad is None else bad | b
    return bad


def _append_newest(bucket: list[torch.Tensor]):
    """A read-only intervention body that keeps each step's newest position."""

    def read(value: torch.Tensor, ctx: Any) -> None:
        bucket.append(value[:, -1].detach().clone())

    return read


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
) -> ActivationStore:
    """Trace text prompts through ``n_steps`` of generation (with CFG) into a store.

    Each generation step's newest position is read at every layer of ``sites``.
    ``frames="all"`` keeps every step, ``"pooled"`` only the pooled view (mean over
    steps, last step). ``branch`` picks the CFG rows kept: ``"cond"``, ``"uncond"``,
    or ``"both"`` (each prompt then gives two clips, ``<id>#cond`` and ``<id>#uncond``).
    """
    from .generation import generate
    from .interventions import apply_fn

    if concept_set.kind != "prompts":
        raise ValueError(f"collect_prompts needs a prompt set; {concept_set.name!r} holds {concept_set.kind}")
    if branch not in ("cond", "uncond", "both"):
        raise ValueError(f"branch must be 'cond', 'uncond' or 'both', got {branch!r}")
    if frames not in ("all", "pooled"):
        raise ValueError(f"prompt sets keep frames='all' (every step) or 'pooled', got {frames!r}")
    concept_set.check_concepts()
    store_dtype = resolve_dtype(dtype)
    concepts = sorted(concept_set.labels)
    branches = ["cond", "uncond"] if branch == "both" else [branch]
    splits = concept_set.splits or grouped_stratified_split(
        concept_set.labels[concepts[0]].tolist(), concept_set.groups, seed=seed)
    config = {
        "model_id": model.name, "model_fingerprint": model.fingerprint, "model_source": model.source,
        "concept_set": concept_set.name, "concept_set_kind": "prompts", "n_clips": len(concept_set) * len(branches),
        "clip_ids_digest": _digest(concept_set.ids), "concepts": concepts, "sites": list(sites),
        "n_layers": model.n_layers, "site_shapes": {s: list(model.site_shape(s)) for s in sites},
        "dtype": str(store_dtype).replace("torch.", ""), "frames": frames, "frames_stored": frames == "all",
        "branch": branch, "n_steps": n_steps, "clips_per_chunk": batch_size, "batch_size": batch_size,
        "seed": seed, "package_version": __version__,
    }
    writer = StoreWriter(out, config, overwrite=overwrite)
    clip_rows = _clip_rows_done(writer)
    n = len(concept_set)
    n_chunks = (n + batch_size - 1) // batch_size
    bar = tqdm(total=n, desc=f"collecting {concept_set.name}", disable=not progress,
               initial=min(n, writer.chunks_done * batch_size))
    for chunk in range(writer.chunks_done, n_chunks):
        idx = list(range(chunk * batch_size, min(n, (chunk + 1) * batch_size)))
        b = len(idx)
        reads: dict[tuple[str, int], list[torch.Tensor]] = {(s, layer): [] for s in sites
                                                            for layer in range(model.n_layers)}
        ivs = [apply_fn(s, layer, _append_newest(reads[(s, layer)]), rows="both")
               for s in sites for layer in range(model.n_layers)]
        generate(model, text=[concept_set.prompts[i] for i in idx], max_new_tokens=n_steps,
                 seed=seed + chunk, interventions=ivs, decode_audio=False)
        frames_out: dict[str, list[torch.Tensor]] = {s: [] for s in sites}
        pooled: dict[str, dict[str, list[torch.Tensor]]] = {s: {"mean": [], "last": []} for s in sites}
        rows_meta: list[dict[str, Any]] = []
        for br in branches:
            rows = slice(0, b) if br == "cond" else slice(b, 2 * b)
            for s in sites:
                per_layer = [torch.stack(reads[(s, layer)])[:, rows] for layer in range(model.n_layers)]
                act = torch.stack(per_layer, dim=2)  # (steps, B, L, ...)
                act = act.transpose(0, 1)  # (B, steps, L, ...)
                pooled[s]["mean"].append(act.float().mean(1).to(store_dtype))
                pooled[s]["last"].append(act[:, -1].to(store_dtype))
                if frames == "all":
                    frames_out[s].append(act.reshape(-1, *act.shape[2:]).to(store_dtype))
            for i in idx:
                rows_meta.append({"index": i, "branch": br})
        result_frames = {s: torch.cat(v) for s, v in frames_out.items() if v}
        result_pooled = {s: {p: torch.cat(v[p]) for p in v} for s, v in pooled.items()}
        steps_per = n_steps if frames == "all" else 0
        chunk_clip_rows, row_clip, row_pos, row_branch = [], [], [], []
        for r in rows_meta:
            i = r["index"]
            row = _clip_row(concept_set, i, splits, concepts, steps_per, n_steps, {})
            if branch == "both":
                row["clip_id"] = f"{concept_set.ids[i]}#{r['branch']}"
            row["branch"], row["prompt"] = r["branch"], concept_set.prompts[i]
            chunk_clip_rows.append(row)
            row_clip.extend([i] * steps_per)
            row_pos.extend(range(steps_per))
            row_branch.extend([r["branch"]] * steps_per)
        stats = {}
        all_labels = torch.tensor([r["index"] for r in rows_meta])
        for s in sites:
            st = SiteStats()
            if frames == "all":
                x = result_frames[s]
                lab = {c: concept_set.labels[c][torch.tensor(row_clip)].long() for c in concepts}
            else:
                x = result_pooled[s]["mean"]
                lab = {c: concept_set.labels[c][all_labels].long() for c in concepts}
            st.update(x.reshape(x.shape[0], x.shape[1], -1), lab)
            stats[s] = st
        table = _row_table(concept_set, row_clip, row_pos, row_branch, splits, concepts, chunk_clip_rows)
        writer.write_chunk(chunk, result_frames, result_pooled, table, stats, [])
        clip_rows.extend(chunk_clip_rows)
        bar.update(b)
    bar.close()
    return _finish(writer, clip_rows, frames == "all", model)
