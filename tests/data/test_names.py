"""Names from data: exactly the names that stay one path component inside their folder are accepted."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.data.names import NAME, UnsafeNameError, safe_name, to_name
from musicinterp.errors import MusicInterpError


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=70), st.sampled_from([".", "..", "a/b", "-rf", ".x", "a" * 65, "a\n", "ok-1.2_x"]),
                       st.integers(), st.none()))
def test_safe_names_are_single_path_components_inside_their_folder(tmp_path, value):
    try:
        name = safe_name(value, field="entries[3].id")
    except UnsafeNameError as err:
        assert isinstance(err, MusicInterpError) and str(err).startswith("entries[3].id: ")
        return
    assert (tmp_path / name).resolve().parent == tmp_path.resolve() and not name.startswith((".", "-"))
    assert len(name) <= 64 and "/" not in name and "\\" not in name


@pytest.mark.parametrize("value", ["drums", "bass-2", "a.b_c", "A" * 64, "0"])
def test_names_are_accepted_unchanged(value):
    assert safe_name(value, field="concept") == value


@pytest.mark.parametrize("value", ["", ".", "..", "../x", "a/b", "a\\b", "-rf", ".hidden", "A" * 65, "a b", "é", "a\n",
                                   "C:x", None, 3])
def test_anything_else_is_refused_naming_the_field(value):
    with pytest.raises(UnsafeNameError, match=r"^manifest.json: concepts: .* cannot be used as a name; a name is "
                                              r"1-64 letters"):
        safe_name(value, field="manifest.json: concepts")


@given(text=st.text(max_size=100))
def test_to_name_always_makes_a_name(text):
    assert NAME.fullmatch(to_name(text)) and safe_name(to_name(text), field="x")
