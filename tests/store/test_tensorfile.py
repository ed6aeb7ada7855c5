"""Strict safetensors reading: damaged headers, lengths, checksums and values end in the caller's named error."""

import hashlib
import json
import zlib

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.errors import MusicInterpError
from musicinterp.store import layout as LY
from musicinterp.store import tensorfile as TF
from musicinterp.store.errors import StoreFormatError
from musicinterp.store.streaming import read_shard_into

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "t.safetensors"
    LY.atomic_save_tensors(path, {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
                                  "b": torch.tensor([1, 2], dtype=torch.int64)}, metadata={"k": "v"})
    return path


def test_a_good_file_reads_back_with_its_checksums(good):
    data = good.read_bytes()
    for check in (("sha256", hashlib.sha256(data).hexdigest()), ("crc32", f"{zlib.crc32(data):08x}"), None):
        t = TF.read_tensors(good, StoreFormatError, checksum=check)
        assert torch.equal(t["a"], torch.arange(6.0).reshape(2, 3)) and t["b"].tolist() == [1, 2]
    with pytest.raises(StoreFormatError, match="t.safetensors: fails its CRC-32 checksum"):
        TF.read_tensors(good, StoreFormatError, checksum=("crc32", "00000000"))


def test_a_huge_header_length_is_named_not_allocated(good):
    data = bytearray(good.read_bytes())
    data[:8] = (2**62).to_bytes(8, "little")  # what a flipped high bit of the length field gives
    good.write_bytes(bytes(data))
    for read in (lambda: TF.read_tensors(good, StoreFormatError), lambda: TF.read_header(good, StoreFormatError),
                 lambda: read_shard_into(good, torch.empty(2, 3), (2, 3), torch.float32)):
        with pytest.raises(StoreFormatError, match=r"t.safetensors: not a readable safetensors file: its header "
                                                   r"length field says 4611686018427387904 bytes"):
            read()


@pytest.mark.parametrize("header, match", [
    ({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}, "spans 20 bytes; its shape and dtype need 24"),
    ({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, "has dtype 'C64'"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}, "has shape"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, "starts at byte 8 of the data, expected 0"),
    ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, "holds fewer bytes"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, "holds 4 bytes after its last tensor"),
    ([1, 2], "header is not a JSON object"),
    ({"__metadata__": {"k": 1}}, "'__metadata__' must map names to strings"),
])
def test_malformed_headers_are_named(tmp_path, header, match):
    text = json.dumps(header).encode()
    path = tmp_path / "h.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + bytes(8))
    with pytest.raises(StoreFormatError, match=match):
        TF.read_tensors(path, StoreFormatError)


def test_non_finite_values_are_named_unless_allowed(tmp_path):
    path = tmp_path / "n.safetensors"
    LY.atomic_save_tensors(path, {"w": torch.tensor([1.0, float("nan"), float("inf")]), "t": torch.tensor([-1.0])})
    with pytest.raises(StoreFormatError, match="n.safetensors: tensor 'w' holds 2 NaN or inf values"):
        TF.read_tensors(path, StoreFormatError)
    assert TF.read_tensors(path, StoreFormatError, may_be_nonfinite={"w"})["w"].isnan().sum() == 1


PRISTINE: dict[str, bytes] = {}


@SETTINGS
@given(data=st.data())
def test_fuzzed_files_read_or_raise_the_named_error(good, data):
    """Any damage to a file's bytes (the header especially) ends in the caller's error, never another one."""
    raw = bytearray(PRISTINE.setdefault("raw", good.read_bytes()))  # the fixture's file is shared by examples
    how = data.draw(st.sampled_from(["flip", "cut", "splice", "length"]))
    if how == "flip":
        for at in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4)):
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "splice":
        at = data.draw(st.integers(8, len(raw) - 1))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    else:
        raw[:8] = data.draw(st.integers(0, 2**64 - 1)).to_bytes(8, "little")
    good.write_bytes(bytes(raw))
    for read in (lambda: TF.read_tensors(good, StoreFormatError), lambda: TF.read_header(good, StoreFormatError),
                 lambda: read_shard_into(good, torch.empty(2, 3), (2, 3), torch.float32, ("crc32", "0" * 8))):
        try:
            read()
        except StoreFormatError as err:
            assert isinstance(err, MusicInterpError) and "t.safetensors" in str(err)
