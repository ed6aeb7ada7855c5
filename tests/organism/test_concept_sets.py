import pytest
import torch

from musicinterp.organism import detect
from musicinterp.organism.concept_sets import balanced_set, paired_set


def test_concept_sets_balanced_and_paired():
    bal = balanced_set("bass", 20, seed=1)
    assert bal.codes.shape == (20, 4, 200) and bal.labels["bass"].sum() == 10
    assert torch.equal(detect(bal.codes, "bass")[1], bal.labels["bass"])
    pairs = paired_set("drums", 6, seed=2)
    assert len(pairs) == 12 and pairs.groups[0] == pairs.groups[1]
    assert pairs.labels["drums"].tolist() == [1, 0] * 6
    assert torch.equal(pairs.codes[0, 0], pairs.codes[1, 0])
    with pytest.raises(ValueError, match="unknown organism concept 'piano'"):
        balanced_set("piano", 4)


def test_set_sizes_are_bounded_before_any_clip_is_drawn():
    from musicinterp.errors import MusicInterpError
    from musicinterp.organism.concept_sets import OrganismSetError

    with pytest.raises(OrganismSetError, match=r"n=1000000000000: an organism set holds 1 to 100000 clips"):
        balanced_set("drums", 10**12)
    with pytest.raises(OrganismSetError, match="n_frames=10000000: organism clips hold 5 to 1500 frames"):
        paired_set("drums", 2, n_frames=10**7)
    with pytest.raises(MusicInterpError, match="more than 10000000 frames"):
        paired_set("drums", 50_000, n_frames=1000)


def test_sets_label_the_nuisances_a_keep_set_names():
    from musicinterp.organism.world import OrganismWorld

    s = balanced_set("bass", 24, seed=3)
    assert set(s.labels) == {"drums", "tempo", "timbre", "bass", "dynamics", "mode"}
    world = OrganismWorld(200)
    clips = [world.sample(3 * 1_000_003 + i, n_frames=200) for i in range(24)]
    assert s.labels["mode"].tolist() == [int(c.nuisance.minor) for c in clips]
    assert s.labels["dynamics"].tolist() == [int(c.nuisance.dynamics == 2) for c in clips]
    assert 0 < int(s.labels["mode"].sum()) < 24 and 0 < int(s.labels["dynamics"].sum()) < 24
