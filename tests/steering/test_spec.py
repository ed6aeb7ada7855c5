import pytest
from hypothesis import given
from hypothesis import strategies as st

from musicinterp.steering import ApplySpec, SpecError


def test_merge_keeps_unset_fields():
    stored = ApplySpec(rows="cond", every=5, start=2)
    merged = stored.merge(ApplySpec(layers=[3]))
    assert merged == ApplySpec(rows="cond", every=5, start=2, layers=(3,))
    assert merged.window.every == 5 and merged.rows_or_default == "cond"
    assert stored.merge(ApplySpec(rows="both")).rows == "both"
    assert ApplySpec().resolved() == {"rows": "both", "start": 0, "stop": None, "every": 1, "layers": None,
                                      "heads": None}


def test_round_trip_and_errors():
    spec = ApplySpec(rows="uncond", stop=9, heads=[(1, 2)])
    assert ApplySpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="rows"):
        ApplySpec(rows="cfg")
    with pytest.raises(SpecError, match="unknown field"):
        ApplySpec.from_dict({"rowz": "cond"})
    with pytest.raises(SpecError, match=r"\(layer, head\)"):
        ApplySpec(heads=[(1, 2, 3)])
    with pytest.raises(ValueError, match="step window"):
        ApplySpec(start=5, stop=2)


@given(st.dictionaries(st.sampled_from(["rows", "start", "stop", "every", "layers", "heads", "x"]),
                       st.one_of(st.none(), st.integers(-3, 9), st.text(max_size=4),
                                 st.lists(st.integers(0, 3), max_size=3))))
def test_from_dict_fails_only_with_spec_errors(data):
    try:
        ApplySpec.from_dict(data)
    except SpecError:
        pass
