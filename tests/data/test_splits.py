"""grouped_stratified_split: groups never straddle train and validation, label proportions are kept."""

import pytest

from musicinterp.data.splits import grouped_stratified_split


def test_groups_stay_whole_and_each_label_keeps_its_share():
    labels = [g % 2 for g in range(20) for _ in range(2)]  # 20 groups of 2 examples, 10 per label
    groups = [f"g{g}" for g in range(20) for _ in range(2)]
    split = grouped_stratified_split(labels, groups, val_fraction=0.2, seed=3)
    by_group = {}
    for g, s in zip(groups, split, strict=True):
        by_group.setdefault(g, set()).add(s)
    assert all(len(sides) == 1 for sides in by_group.values())  # a source clip is never on both sides
    val_groups = [g for g, sides in by_group.items() if sides == {"val"}]
    # round(0.2 * 10) = 2 groups of each label go to validation
    assert sorted(int(g[1:]) % 2 for g in val_groups) == [0, 0, 1, 1]
    assert grouped_stratified_split(labels, groups, val_fraction=0.2, seed=3) == split  # seeded
    assert grouped_stratified_split(labels, groups, val_fraction=0.2, seed=4) != split


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 labels for 2 groups"):
        grouped_stratified_split([0, 1, 0], ["a", "b"])
