"""Rewrite the codes of an organism store's clips from their ids (stores keep activations, not codes).

Clip ids of organism concept sets (``"<concept>-<seed>-<i>"``, paired sets
``"...-with|without"``) name the world seed of each clip; the rewritten labels
are checked against the store's.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from ..world.base import WorldError
from .world import CONCEPTS, OrganismWorld

_BALANCED = re.compile(r"^organism-(\w+)-balanced$")
_PAIRED = re.compile(r"^organism-(\w+)-paired$")


def organism_store_codes(store: Any, clip_ids: list[str]) -> torch.Tensor:
    """Codes ``(n, 4, T)`` of ``clip_ids`` of an organism store, rewritten from the world."""
    table = store.clips.to_pydict()
    position = {cid: i for i, cid in enumerate(table["clip_id"])}
    name = str(store.meta.get("concept_set", ""))
    match = _BALANCED.match(name) or _PAIRED.match(name)
    if match is None or match.group(1) not in CONCEPTS:
        raise WorldError(f"store {store.root} (concept set {name!r}) holds no codes and is not an organism "
                             f"concept set; pass its clips (the ConceptSet, or codes) with clips=")
    concept, paired = match.group(1), name.endswith("-paired")
    out = []
    for cid in clip_ids:
        parts = cid.split("-")
        try:
            seed, index = int(parts[1]), int(parts[2])
        except (IndexError, ValueError) as err:
            raise WorldError(f"clip id {cid!r} does not name an organism world seed") from err
        value = (parts[3] == "with") if paired else index % 2
        n_frames = int(table["n_frames"][position[cid]])
        world = OrganismWorld(n_frames)
        clip = world.with_concept(world.sample(seed * 1_000_003 + index, n_frames=n_frames), concept, int(value))
        for c in CONCEPTS:
            key = f"label_{c}"
            if key in table and int(getattr(clip.latents, c)) != int(table[key][position[cid]]):
                raise WorldError(f"regenerating clip {cid!r} from the organism world gave {c}="
                                     f"{getattr(clip.latents, c)}, the store says {table[key][position[cid]]}; "
                                     f"pass the concept set with clips=")
        out.append(clip.codes)
    return torch.stack(out).long()
