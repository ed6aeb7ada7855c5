import torch

from musicinterp.sae.frames import ordered_frames, row_clips, stride_for


def test_ordered_frames_are_the_stores_rows_in_order(frames_store):
    whole = frames_store.read_frames("resid", 1).float()
    rows, x = zip(*ordered_frames(frames_store, "resid", 1), strict=True)
    assert torch.equal(torch.cat(rows), torch.arange(whole.shape[0])) and torch.equal(torch.cat(x), whole)
    rows3, x3 = zip(*ordered_frames(frames_store, "resid", 1, every=3), strict=True)
    assert torch.equal(torch.cat(rows3), torch.arange(0, whole.shape[0], 3))  # across shard borders too
    assert torch.equal(torch.cat(x3), whole[::3])


def test_one_head_of_a_head_site(frames_store):
    heads = frames_store.read_frames("attn_z", 0).float()
    _, x = zip(*ordered_frames(frames_store, "attn_z", 0, head=2), strict=True)
    assert torch.equal(torch.cat(x), heads[:, 2])
    _, flat = zip(*ordered_frames(frames_store, "attn_z", 0), strict=True)
    assert torch.equal(torch.cat(flat), heads.reshape(heads.shape[0], -1))


def test_row_clips_and_strides(frames_store):
    clips = row_clips(frames_store)
    n_rows = frames_store.clips.column("n_rows").to_pylist()
    assert clips.tolist() == [i for i, n in enumerate(n_rows) for _ in range(n)]
    total = frames_store.meta["n_rows"]
    assert total == sum(n_rows)
    assert stride_for(frames_store, None) == 1 and stride_for(frames_store, total) == 1
    assert stride_for(frames_store, total // 4) == -(-total // (total // 4))
