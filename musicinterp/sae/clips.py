"""The codes of a store's clips, for spliced evaluation and listening to top clips.

A store keeps activations, not codes. Organism concept sets are regenerated
from the world: their clip ids (``"<concept>-<seed>-<i>"``, paired sets
``"...-with|without"``) name the world seed of each clip, and the regenerated
labels are checked against the store's. Other stores need the codes (or the
concept set they were collected from) passed in.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from ..data.concept_set import ConceptSet
from .errors import SAEConfigError

_BALANCED = re.compile(r"^organism-(\w+)-balanced$")
_PAIRED = re.compile(r"^organism-(\w+)-paired$")


def clip_table(store: Any) -> dict[str, list]:
    """The store's per-clip table as plain lists (clip_id, n_frames, n_rows, split, label_*)."""
    return store.clips.to_pydict()


def store_codes(store: Any, clip_ids: list[str], source: ConceptSet | torch.Tensor | None = None) -> torch.Tensor:
    """Codes ``(n, K, T)`` of ``clip_ids``: from ``source`` (a concept set or codes in store clip order), or
    regenerated from the organism world."""
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
    return _organism_codes(store, clip_ids, table, position)


def _organism_codes(store: Any, clip_ids: list[str], table: dict[str, list], position: dict[str, int]
                    ) -> torch.Tensor:
    from ..organism.world import CONCEPTS, OrganismWorld

    name = str(store.meta.get("concept_set", ""))
    match = _BALANCED.match(name) or _PAIRED.match(name)
    if match is None or match.group(1) not in CONCEPTS:
        raise SAEConfigError(f"store {store.root} (concept set {name!r}) holds no codes and is not an organism "
                             f"concept set; pass its clips (the ConceptSet, or codes) with clips=")
    concept, paired = match.group(1), name.endswith("-paired")
    out = []
    for cid in clip_ids:
        parts = cid.split("-")
        try:
            seed, index = int(parts[1]), int(parts[2])
        except (IndexError, ValueError) as err:
            raise SAEConfigError(f"clip id {cid!r} does not name an organism world seed") from err
        value = (parts[3] == "with") if paired else index % 2
        n_frames = int(table["n_frames"][position[cid]])
        world = OrganismWorld(n_frames)
        clip = world.with_concept(world.sample(seed * 1_000_003 + index, n_frames=n_frames), concept, int(value))
        for c in CONCEPTS:
            key = f"label_{c}"
            if key in table and int(getattr(clip.latents, c)) != int(table[key][position[cid]]):
                raise SAEConfigError(f"regenerating clip {cid!r} from the organism world gave {c}="
                                     f"{getattr(clip.latents, c)}, the store says {table[key][position[cid]]}; "
                                     f"pass the concept set with clips=")
        out.append(clip.codes)
    return torch.stack(out).long()


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
