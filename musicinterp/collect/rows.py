"""Rows shared by clip and prompt collection: per-clip rows, per-frame row tables, labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from ..data.concept_set import ConceptSet
from ..store.errors import BadEntryError


def clip_row(cs: ConceptSet, i: int, split: str, concepts: list[str], n_rows: int, n_frames: int,
             info: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of the store's clip table (``first_row`` is filled in when the store is finalized)."""
    info = info or {}
    row: dict[str, Any] = {"clip_id": cs.ids[i], "clip_index": i, "group": cs.groups[i], "split": split,
                           "n_frames": n_frames, "n_rows": n_rows, "resampled_from": info.get("resampled_from"),
                           "downmixed_from": info.get("downmixed_from")}
    for c in concepts:
        row[f"label_{c}"] = float(cs.labels[c][i])
    return row


def frame_rows(cs: ConceptSet, clips: list[int], positions: list[np.ndarray], branches: list[str],
               splits: list[str], concepts: list[str]) -> pa.Table:
    """A chunk's frame-row index: one row per stored position of each clip, in storage order."""
    counts = np.array([len(p) for p in positions], dtype=np.int64)
    idx = np.repeat(np.array(clips, dtype=np.int64), counts)
    pos = np.concatenate(positions).astype(np.int32) if positions else np.zeros(0, np.int32)
    columns: dict[str, pa.Array] = {
        "clip_index": pa.array(idx, pa.int64()), "position": pa.array(pos, pa.int32()),
        "clip_id": pa.array(np.repeat(np.array([cs.ids[i] for i in clips], dtype=object), counts), pa.string()),
        "split": pa.array(np.repeat(np.array([splits[i] for i in clips], dtype=object), counts), pa.string()),
        "branch": pa.array(np.repeat(np.array(branches, dtype=object), counts), pa.string()),
    }
    for c in concepts:
        lab = cs.labels[c].double().numpy()[np.array(clips, dtype=np.int64)] if clips else np.zeros(0)
        columns[f"label_{c}"] = pa.array(np.repeat(lab, counts).astype(np.float32), pa.float32())
    return pa.table(columns)


def binary_concepts(cs: ConceptSet, concepts: list[str]) -> list[str]:
    """Concepts whose labels are all 0 or 1 over the whole set (they get class means)."""
    return [c for c in concepts if set(torch.unique(cs.labels[c].float()).tolist()) <= {0.0, 1.0}]


def binary_labels(cs: ConceptSet, binary: list[str], clips: list[int], repeats: list[int] | None = None
                  ) -> dict[str, torch.Tensor]:
    """Labels of the ``binary`` concepts for rows of ``clips`` (each repeated ``repeats[j]`` times)."""
    index = torch.tensor(clips, dtype=torch.long)
    out = {}
    for c in binary:
        lab = cs.labels[c][index].long()
        out[c] = lab.repeat_interleave(torch.tensor(repeats, dtype=torch.long)) if repeats is not None else lab
    return out


def check_kept(name: str, concepts: list[str]) -> Callable[[list[dict[str, Any]]], None]:
    """After skipping bad entries, some clips must remain and every concept keep both classes."""

    def check(clip_rows: list[dict[str, Any]]) -> None:
        if not clip_rows:
            raise BadEntryError(f"no usable entries in concept set {name!r}")
        for concept in concepts:
            if len({r[f"label_{concept}"] for r in clip_rows}) < 2:
                raise BadEntryError(f"after skipping bad entries, concept {concept!r} has a single class")

    return check
