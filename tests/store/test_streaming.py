import numpy as np
import pytest
import torch

from musicinterp.store import layout as LY
from musicinterp.store.errors import StoreFormatError
from musicinterp.store.streaming import read_shard_into, shuffled_batches


def _shards(tmp_path, sizes, dtype=torch.float32, shape=(3, 2)):
    out, start = [], 0
    for i, n in enumerate(sizes):
        x = torch.arange(start, start + n, dtype=torch.float64)[:, None, None].expand(n, *shape).to(dtype)
        path = tmp_path / f"{i}.safetensors"
        LY.atomic_save_tensors(path, {"x": x.contiguous()})
        out.append((path, n))
        start += n
    return out


def _ids(batches):
    return torch.cat([b[:, 0] for b in batches]).long().tolist()


@pytest.mark.parametrize("keep", [0, 7, 100])
def test_every_row_once_per_epoch_and_mixed_across_shards(tmp_path, keep):
    shards = _shards(tmp_path, [10, 0, 25, 3, 12])
    batches = list(shuffled_batches(shards, (3, 2), torch.float32, batch_size=4, shuffle_buffer=keep,
                                    rng=np.random.default_rng(0), head=None, dtype=torch.float32, epochs=2))
    ids = _ids(batches)
    assert all(b.shape == (4, 6) for b in batches) and len(ids) == 100  # 2 x 50 rows
    assert sorted(ids) == sorted(list(range(50)) * 2)
    if keep:
        assert ids[:50] != sorted(ids[:50])


def test_head_selection_dtype_and_endless_epochs(tmp_path):
    x = torch.randn(20, 3, 2).to(torch.bfloat16)
    LY.atomic_save_tensors(tmp_path / "a.safetensors", {"x": x})
    stream = shuffled_batches([(tmp_path / "a.safetensors", 20)], (3, 2), torch.bfloat16, batch_size=5,
                              shuffle_buffer=4, rng=np.random.default_rng(1), head=1, dtype=torch.float32, epochs=None)
    got = torch.cat([next(stream) for _ in range(12)])  # three passes over 20 rows
    assert got.dtype == torch.float32 and got.shape == (60, 2)
    rows = {tuple(r) for r in x[:, 1].float().tolist()}
    assert {tuple(r) for r in got.tolist()} == rows


def test_shards_that_do_not_match_their_record_are_named(tmp_path):
    (path, n), = _shards(tmp_path, [6])
    with pytest.raises(StoreFormatError, match=r"0.safetensors: field 'x' has shape \[6, 3, 2\], expected \[5, 3, 2\]"):
        read_shard_into(path, torch.empty(5, 6), (5, 3, 2), torch.float32)
    with pytest.raises(StoreFormatError, match="has dtype F32, expected BF16"):
        read_shard_into(path, torch.empty(6, 6, dtype=torch.bfloat16), (6, 3, 2), torch.bfloat16)
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(StoreFormatError, match="fewer bytes"):
        read_shard_into(path, torch.empty(6, 6), (6, 3, 2), torch.float32)
