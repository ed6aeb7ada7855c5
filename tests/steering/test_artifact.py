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


def _copy(saved, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("steerer.json", "steerer.safetensors"):
        (folder / name).write_bytes((saved / name).read_bytes())
    return folder


def test_one_flipped_bit_and_a_huge_header_length_are_named(saved, tmp_path):
    folder = _copy(saved, tmp_path / "a")
    data = bytearray((folder / "steerer.safetensors").read_bytes())
    data[-2] ^= 0x04
    (folder / "steerer.safetensors").write_bytes(bytes(data))
    with pytest.raises(SteererFileError, match=r"a/steerer.safetensors: fails its SHA-256 checksum"):
        Steerer.load(folder)
    data[:8] = (2**60).to_bytes(8, "little")  # never a MemoryError or a raw safetensors error
    (folder / "steerer.safetensors").write_bytes(bytes(data))
    info = json.loads((folder / "steerer.json").read_text())
    del info["tensors_sha256"]  # the header check, not the checksum, must name it
    (folder / "steerer.json").write_text(json.dumps(info))
    with pytest.raises(SteererFileError, match=r"steerer.safetensors: not a readable safetensors file: its header "
                                               r"length field says 1152921504606846976 bytes"):
        with pytest.warns(UserWarning, match="no 'tensors_sha256'"):
            Steerer.load(folder)


def test_a_concept_that_is_not_a_name_is_refused(saved, tmp_path):
    from musicinterp.data.names import UnsafeNameError

    folder = _copy(saved, tmp_path / "a")
    info = json.loads((folder / "steerer.json").read_text())
    info["concept"] = "../../outside"
    (folder / "steerer.json").write_text(json.dumps(info))
    with pytest.raises(UnsafeNameError, match=r"steerer.json: field 'concept': '../../outside' cannot be used"):
        Steerer.load(folder)


def test_non_finite_steering_tensors_are_never_saved_nor_loaded(tiny_store, saved, tmp_path):
    import torch

    from musicinterp.store.layout import atomic_save_tensors

    _, store = tiny_store
    iti = fit_all(store)["iti"]
    iti.tensors["directions"][0, 3] = float("nan")
    with pytest.raises(SteererFileError, match=r"steerer.safetensors \(not saved\): tensor 'directions' holds 1 NaN"):
        iti.save(tmp_path / "nan")
    assert not (tmp_path / "nan" / "steerer.json").exists()
    folder = _copy(saved, tmp_path / "b")  # a file written with NaN by something else, checksum and all
    tensors = Steerer.load(saved).tensors
    tensors["sigma"] = torch.full_like(tensors["sigma"], float("inf"))
    info = json.loads((folder / "steerer.json").read_text())
    info["tensors_sha256"] = atomic_save_tensors(folder / "steerer.safetensors", tensors).sha256
    (folder / "steerer.json").write_text(json.dumps(info))
    with pytest.raises(SteererFileError, match=r"b/steerer.safetensors: tensor 'sigma' holds 3 NaN or inf"):
        Steerer.load(folder)


def test_a_steerer_saved_before_checksums_loads_with_a_warning(saved, tmp_path):
    from musicinterp.store.owned import marker_kind

    assert marker_kind(saved) == "steerer"
    folder = _copy(saved, tmp_path / "old")
    info = json.loads((folder / "steerer.json").read_text())
    del info["tensors_sha256"]
    (folder / "steerer.json").write_text(json.dumps(info))
    with pytest.warns(UserWarning, match="no 'tensors_sha256'"):
        assert Steerer.load(folder).concept == "drums"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_tensor_files_load_or_raise_the_named_error(saved, tmp_path_factory, data):
    folder = _copy(saved, tmp_path_factory.mktemp("fz"))
    raw = bytearray((saved / "steerer.safetensors").read_bytes())
    header = int.from_bytes(raw[:8], "little") + 8
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, header - 1))  # the header: what a checksum alone would not explain
        raw[at] = data.draw(st.integers(0, 255))
    (folder / "steerer.safetensors").write_bytes(bytes(raw))
    info = json.loads((folder / "steerer.json").read_text())
    del info["tensors_sha256"]  # so the header checks, not the checksum, must catch the damage
    (folder / "steerer.json").write_text(json.dumps(info))
    try:
        with pytest.warns(UserWarning):
            Steerer.load(folder)
    except SteererFileError as err:
        assert "steerer.safetensors" in str(err) or "steerer.json" in str(err)
