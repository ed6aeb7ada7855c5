"""Malformed steerer folders end in SteererFileError naming the file and field."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.steering import Steerer, SteererFileError

from .conftest import fit_all

FIELDS = ["method", "concept", "site", "config", "model_fingerprint", "model_id", "spec", "meta"]
values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@pytest.fixture(scope="module")
def saved(tiny_store, tmp_path_factory):
    _, store = tiny_store
    folder = tmp_path_factory.mktemp("art") / "iti"
    fit_all(store)["iti"].save(folder)
    return folder


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), value=values, drop=st.booleans())
def test_a_damaged_json_field_is_named(saved, tmp_path_factory, field, value, drop):
    folder = tmp_path_factory.mktemp("bad")
    info = json.loads((saved / "steerer.json").read_text())
    if drop:
        info.pop(field)
    else:
        info[field] = value
    (folder / "steerer.json").write_text(json.dumps(info))
    (folder / "steerer.safetensors").write_bytes((saved / "steerer.safetensors").read_bytes())
    try:
        Steerer.load(folder)
    except SteererFileError as err:
        assert "steerer" in str(err)


@pytest.mark.parametrize("damage", ["truncate_json", "not_json", "array_json", "truncate_tensors", "missing"])
def test_damaged_files_are_named(saved, tmp_path, damage):
    for name in ("steerer.json", "steerer.safetensors"):
        (tmp_path / name).write_bytes((saved / name).read_bytes())
    if damage == "truncate_json":
        (tmp_path / "steerer.json").write_text((saved / "steerer.json").read_text()[:40])
    elif damage == "not_json":
        (tmp_path / "steerer.json").write_bytes(b"\xff\xfe")
    elif damage == "array_json":
        (tmp_path / "steerer.json").write_text("[1, 2]")
    elif damage == "truncate_tensors":
        (tmp_path / "steerer.safetensors").write_bytes((saved / "steerer.safetensors").read_bytes()[:30])
    else:
        (tmp_path / "steerer.safetensors").unlink()
    with pytest.raises(SteererFileError, match="steerer"):
        Steerer.load(tmp_path)
