"""The codes of a store's clips, for spliced evaluation and listening to top clips.

A store keeps activations, not codes. A world that writes its own clips (the
organism's) rewrites them from their ids (``World.store_codes``); other stores
need the codes (or the concept set they were collected from) passed in.
"""

from __future__ import annotations

from typing import Any

import torch

from ..data.concept_set import ConceptSet
from .errors import SAEConfigError


def clip_table(store: Any) -> dict[str, list]:
    """The store's per-clip table as plain lists (clip_id, n_frames, n_rows, split, label_*)."""
    return store.clips.to_pydict()


def store_codes(store: Any, clip_ids: list[str], source: ConceptSet | torch.Tensor | None = None,
                world: Any = None) -> torch.Tensor:
    """Codes ``(n, K, T)`` of ``clip_ids``: from ``source`` (a concept set or codes in store clip order), or
    rewritten by the model's ``world`` where it can (the organism's)."""
    table = clip_table(store)
    position = {cid: i for i, cid in enumerate(table["clip_id"])}
    missing = [c for c in clip_ids if c not in position]
    if missing:
        raise SAEConfigError(f"store {store.root} has no clips {missing[:3]}")
    if isinstance(source, ConceptSet):
        where = {cid: i for i, cid in enumerate(source.ids)}
        absent = [c for c in clip_ids if c not in where]
        if absent:
            raise SAEConfigError(f"concept set {source.name!r} lacks clips {absent[:3]} of store {store.root}")
        return torch.stack([torch.as_tensor(source.codes[where[c]]) for c in clip_ids]).long()
    if isinstance(source, torch.Tensor):
        if source.dim() != 3 or source.shape[0] != len(table["clip_id"]):
            raise SAEConfigError(f"codes must be (n_clips={len(table['clip_id'])}, K, T) in the store's clip "
                                 f"order, got {tuple(source.shape)}")
        return source[[position[c] for c in clip_ids]].long()
    if source is not None:
        raise SAEConfigError(f"clips must be a ConceptSet or a codes tensor, got {type(source).__name__}")
    if world is None:
        raise SAEConfigError(f"store {store.root} holds no codes; pass its clips (the ConceptSet, or codes) with "
                             f"clips=")
    return world.store_codes(store, clip_ids)


def pick_clips(store: Any, n: int | None, seed: int = 0, split: str | None = None) -> list[str]:
    """``n`` clip ids (all when ``None``), drawn without replacement by ``seed``, optionally from one split."""
    table = clip_table(store)
    ids = [c for c, s in zip(table["clip_id"], table["split"], strict=True) if split is None or s == split]
    if not ids:
        raise SAEConfigError(f"store {store.root} has no clips in split {split!r}")
    if n is None or n >= len(ids):
        return ids
    order = torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed))[:n]
    return [ids[i] for i in sorted(order.tolist())]
