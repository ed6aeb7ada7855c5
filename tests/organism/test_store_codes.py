"""Codes of an organism store's clips, rewritten from their ids, against the concept set they came from."""

from types import SimpleNamespace

import pyarrow as pa
import pytest
import torch

from musicinterp.organism import balanced_set, paired_set
from musicinterp.organism.store_codes import organism_store_codes
from musicinterp.world import WorldError


def _store(cs, name=None, **overrides):
    """What organism_store_codes reads of a store: its clip table (ids, frames, labels) and metadata."""
    columns = {"clip_id": list(cs.ids), "n_frames": [cs.codes.shape[-1]] * len(cs.ids),
               **{f"label_{c}": v.tolist() for c, v in cs.labels.items()}, **overrides}
    return SimpleNamespace(clips=pa.table(columns), meta={"concept_set": name or cs.name}, root="/stores/s")


@pytest.mark.parametrize("make", [balanced_set, paired_set])
def test_rewritten_codes_equal_the_concept_sets(make):
    cs = make("timbre", 4, seed=3, n_frames=30)
    picked = [cs.ids[3], cs.ids[0]]
    codes = organism_store_codes(_store(cs), picked)
    assert torch.equal(codes, cs.codes[[3, 0]])


def test_mismatched_labels_and_foreign_stores_are_refused():
    cs = balanced_set("drums", 4, seed=1, n_frames=30)
    flipped = [1 - v for v in cs.labels["bass"].tolist()]
    with pytest.raises(WorldError, match="the store says"):
        organism_store_codes(_store(cs, label_bass=flipped), cs.ids[:1])
    with pytest.raises(WorldError, match="not an organism concept set"):
        organism_store_codes(_store(cs, name="my-clips"), cs.ids[:1])
    with pytest.raises(WorldError, match="does not name an organism world seed"):
        organism_store_codes(_store(cs, clip_id=["drums-x-0", *cs.ids[1:]]), ["drums-x-0"])
