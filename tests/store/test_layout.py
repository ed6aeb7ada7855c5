import hashlib

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from musicinterp.store import layout as LY


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64, torch.int64, torch.bool])
def test_safetensors_written_from_memory_read_back_by_the_library(tmp_path, dtype):
    g = torch.Generator().manual_seed(0)
    tensors = {"x": (torch.randn(5, 3, 4, generator=g) * 10).to(dtype), "b": torch.arange(7), "e": torch.zeros(0, 3)}
    rec = LY.atomic_save_tensors(tmp_path / "t.safetensors", tensors, metadata={"k": "v"})
    back = load_file(tmp_path / "t.safetensors")
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors)
    with safe_open(str(tmp_path / "t.safetensors"), framework="pt") as fh:
        assert fh.metadata() == {"k": "v"}
    data = (tmp_path / "t.safetensors").read_bytes()
    assert rec.bytes == len(data) and rec.sha256 == hashlib.sha256(data).hexdigest()
    assert LY.read_safetensors_header(tmp_path / "t.safetensors")["x"]["shape"] == [5, 3, 4]


def test_non_contiguous_tensors_are_written_in_logical_order(tmp_path):
    x = torch.arange(24.0).reshape(4, 6)[:, ::2].t()
    LY.atomic_save_tensors(tmp_path / "t.safetensors", {"x": x})
    assert torch.equal(load_file(tmp_path / "t.safetensors")["x"], x)


def test_json_and_parquet_records_match_the_bytes(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = LY.atomic_write_json(tmp_path / "a.json", {"b": [1, 2], "a": "x"})
    assert rec.sha256 == LY.file_digest(tmp_path / "a.json")
    rec = LY.atomic_write_parquet(tmp_path / "t.parquet", pa.table({"a": [1, 2, 3]}))
    assert rec.sha256 == LY.file_digest(tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").column("a").to_pylist() == [1, 2, 3]


def test_failed_write_leaves_nothing_behind(tmp_path):
    def boom(out):
        out.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        LY.atomic_write(tmp_path / "f.bin", boom)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="'c' has dtype torch.complex64"):
        LY.atomic_save_tensors(tmp_path / "c.safetensors", {"c": torch.zeros(2, dtype=torch.complex64)})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_get_the_usual_permissions(tmp_path, mask):
    import os

    from musicinterp.store.checksum import Fletcher64

    old = os.umask(mask)
    try:
        assert LY.umask() == mask
        rec = LY.atomic_save_tensors(tmp_path / "t.safetensors", {"x": torch.zeros(3)})
        LY.atomic_write_json(tmp_path / "a.json", {"a": 1})
    finally:
        os.umask(old)
    for name in ("t.safetensors", "a.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0o600
    h = Fletcher64()
    h.update((tmp_path / "t.safetensors").read_bytes())
    assert rec.fletcher64 == h.hexdigest()
