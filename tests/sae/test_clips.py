import pytest
import torch

from musicinterp.collect import collect
from musicinterp.organism import OrganismWorld
from musicinterp.organism.concept_sets import balanced_set, paired_set
from musicinterp.sae import SAEConfigError
from musicinterp.sae.clips import pick_clips, store_codes
from musicinterp.world import WorldError


@pytest.fixture(scope="module")
def organism():
    from musicinterp import load_model

    return load_model("organism")


@pytest.mark.parametrize("make", [lambda: balanced_set("bass", 6, seed=3, n_frames=24),
                                  lambda: paired_set("drums", 8, seed=2, n_frames=24)])
def test_organism_codes_are_regenerated_from_clip_ids(organism, tmp_path, make):
    cs = make()
    store = collect(organism, cs, ["resid"], out=tmp_path / "s", frames="pooled", progress=False)
    ids = pick_clips(store, 4, seed=1)
    assert len(ids) == 4 and len(set(ids)) == 4
    want = torch.stack([cs.codes[cs.ids.index(i)] for i in ids])
    assert torch.equal(store_codes(store, ids, world=organism.world), want)  # rewritten by the world
    assert torch.equal(store_codes(store, ids, cs), want)
    assert torch.equal(store_codes(store, ids, cs.codes), want)


def test_unknown_clips_and_bad_sources_are_named(frames_store):
    with pytest.raises(SAEConfigError, match="no clips"):
        store_codes(frames_store, ["nope"])
    with pytest.raises(SAEConfigError, match="holds no codes"):
        store_codes(frames_store, ["c1"])
    with pytest.raises(WorldError, match="not an organism concept set"):
        store_codes(frames_store, ["c1"], world=OrganismWorld())
    with pytest.raises(SAEConfigError, match=r"codes must be \(n_clips=24"):
        store_codes(frames_store, ["c1"], torch.zeros(3, 4, 5))
