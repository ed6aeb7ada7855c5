"""ConceptSet: one source of examples, ids, groups, splits and labels of matching lengths, each refused by name."""

import pytest
import torch

from musicinterp.data.concept_set import ConceptSet


def _set(**kw):
    base = dict(name="s", labels={"drums": torch.tensor([0, 1, 0])}, ids=["a", "b", "c"], groups=["a", "b", "c"],
                codes=torch.zeros(3, 4, 8, dtype=torch.long))
    return ConceptSet(**{**base, **kw})


def test_a_valid_set_knows_its_kind_and_length():
    cs = _set()
    assert len(cs) == 3 and cs.kind == "codes"
    assert _set(codes=None, prompts=["x", "y", "z"]).kind == "prompts"


@pytest.mark.parametrize("change, message", [
    ({"ids": ["a", "a", "c"]}, "duplicate ids: \\['a'\\]"),
    ({"groups": ["a", "b"]}, "2 groups for 3 examples"),
    ({"prompts": ["x", "y", "z"]}, "exactly one of codes, audio or prompts"),
    ({"codes": torch.zeros(2, 4, 8, dtype=torch.long)}, "2 examples for 3 ids"),
    ({"splits": ["train"]}, "1 splits for 3 ids"),
    ({"labels": {"drums": torch.tensor([0, 1])}}, "labels\\['drums'\\] has 2 rows for 3"),
])
def test_inconsistent_sets_are_refused_by_name(change, message):
    with pytest.raises(ValueError, match=message):
        _set(**change)
