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
