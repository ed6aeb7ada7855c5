import numpy as np
import pytest
import torch

from musicinterp.collect import collect
from musicinterp.store import ActivationStore, StoreError
from musicinterp.store.errors import StoreFormatError


@pytest.fixture
def store(tiny, rset, tmp_path):
    return collect(tiny, rset, ["attn_z", "resid"], out=tmp_path / "s", batch_size=5, progress=False)


def test_repr_is_short_and_says_what_is_inside(store):
    text = repr(store)
    assert len(text.splitlines()) == 5 and len(text) < 400
    for part in ("ActivationStore(", "tiny", store.meta["model_fingerprint"], "12 (132 frame rows",
                 "attn_z 2x(4, 16)", "resid 2x(64,)", "float32", "KB on disk"):
        assert part in text
    assert "tensor(" not in text
    html = store._repr_html_()
    assert html.startswith("<table>") and "attn_z 2x(4, 16)" in html and "tensor(" not in html
    pv = store.probe_view("resid")
    assert repr(pv) == "ProbeView(site='resid', pooling='mean', clips=12, x=(12, 2, 64), concepts=['drums', 'tempo'])"


def test_damaged_shard_is_named(store):
    shard = next((store.root / "shards").rglob("*.safetensors"))
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(StoreError, match=str(shard.relative_to(store.root))):
        ActivationStore.open(store.root)


def test_changed_bytes_fail_deep_verification(store):
    shard = next((store.root / "pooled").rglob("*.safetensors"))
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    ActivationStore.open(store.root)  # sizes still match
    with pytest.raises(StoreError, match="fails its checksum"):
        ActivationStore.open(store.root, deep_verify=True)


def test_shard_of_the_wrong_shape_is_named_on_read(store):
    from musicinterp.store import layout as LY

    path = LY.shard_path(store.root, "resid", 1, store.chunk_names[0])
    LY.atomic_save_tensors(path, {"x": torch.zeros(3, 64)})
    with pytest.raises(StoreFormatError, match=r"r00-00000.safetensors: field 'x' has shape \[3, 64\], expected "
                                               r"\[55, 64\]"):
        store.read_frames("resid", 1)


def test_stream_returns_every_row_once_per_epoch(store):
    frames = store.read_frames("resid", 1)
    batches = list(store.stream("resid", 1, batch_size=16, shuffle_buffer=32, seed=3))
    got = torch.cat(batches)
    assert got.shape == (128, 64)  # 132 rows, the last partial batch dropped
    rows = {tuple(r.tolist()) for r in frames}
    assert all(tuple(r.tolist()) in rows for r in got)
    assert len({tuple(r.tolist()) for r in got}) == 128
    assert not torch.equal(got, frames[:128])  # shuffled
    head = next(store.stream("attn_z", 0, batch_size=8, head=2, shuffle_buffer=0))
    assert head.shape == (8, 16)
    with pytest.raises(ValueError, match="layer 5 out of range"):
        next(store.stream("resid", 5))


def test_stream_feeds_a_dictionary_learning_trainer(store):
    from dictionary_learning.trainers.top_k import AutoEncoderTopK, TopKTrainer

    torch.manual_seed(0)
    stored = {tuple(r.tolist()) for r in store.read_frames("resid", 1)}
    batches = store.stream("resid", 1, batch_size=16, shuffle_buffer=32, epochs=None)
    trainer = TopKTrainer(steps=60, activation_dim=64, dict_size=128, k=8, layer=1, lm_name="tiny", warmup_steps=2,
                          dict_class=AutoEncoderTopK, device="cpu")
    losses = []
    for step in range(60):
        x = next(batches)
        assert x.shape == (16, 64) and x.dtype == torch.float32
        assert all(tuple(r.tolist()) in stored for r in x)  # the trainer sees the store's own frames
        losses.append(trainer.loss(x, step=step).item())
        trainer.update(step, x)
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:5])  # and learns from them


def test_unknown_site_and_folder_are_named(store, tmp_path):
    with pytest.raises(ValueError, match="no site 'mlp_out'; it holds attn_z, resid"):
        store.stats("mlp_out")
    with pytest.raises(StoreError, match="not an activation store"):
        ActivationStore.open(tmp_path / "nowhere")


def _flip(path, at=-1):
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_one_flipped_bit_in_a_shard_is_named_when_streamed(store):
    from musicinterp.store import layout as LY
    from musicinterp.store.errors import StoreChecksumError

    path = LY.shard_path(store.root, "resid", 1, store.chunk_names[1])
    _flip(path, at=-3)  # one bit of one value: the data, not the header
    fresh = ActivationStore.open(store.root)  # sizes match: opening does not read the data
    with pytest.raises(StoreChecksumError, match=f"{path}: fails its Fletcher-64 checksum"):
        list(fresh.stream("resid", 1, batch_size=4))
    with pytest.raises(StoreChecksumError, match=str(path)):
        ActivationStore.open(store.root).read_frames("resid", 1)
    list(fresh.stream("resid", 0, batch_size=4))  # the other layer's shards are intact


def test_each_file_is_verified_once_per_open(store, monkeypatch):
    from musicinterp.store import checksum as CK

    fresh = ActivationStore.open(store.root)
    calls = []
    original = CK.hasher
    monkeypatch.setattr(CK, "hasher", lambda algo: calls.append(algo) or original(algo))
    for _ in range(3):
        list(fresh.stream("resid", 0, batch_size=4))
        fresh.probe_view("resid")
    assert calls == ["fletcher64"] * (len(store.chunk_names) * 2 + 1)  # every shard, pooled file and the clip
    list(ActivationStore.open(store.root).stream("resid", 0, batch_size=4))  # table, once
    assert len(calls) == len(store.chunk_names) * 3 + 1  # a new open checks again
    deep = ActivationStore.open(store.root, deep_verify=True)  # SHA-256 of every file on open
    list(deep.stream("resid", 0, batch_size=4))
    assert len(calls) == len(store.chunk_names) * 3 + 1  # so the first reads hash nothing again


def test_flipped_pooled_and_statistics_bytes_are_named_on_read(store):
    from musicinterp.store import layout as LY
    from musicinterp.store.errors import StoreChecksumError

    pooled = LY.pooled_path(store.root, "attn_z", store.chunk_names[0])
    _flip(pooled)
    with pytest.raises(StoreChecksumError, match=str(pooled)):
        ActivationStore.open(store.root).probe_view("attn_z")
    stats = LY.stats_path(store.root, "resid")
    _flip(stats)
    with pytest.raises(StoreChecksumError, match=str(stats)):
        ActivationStore.open(store.root).stats("resid")


def _rewrite(store, path, tensors):
    """Replace a file and its recorded checksums, as a faulty writer would have."""
    import json

    from musicinterp.store import layout as LY

    rec = LY.atomic_save_tensors(path, tensors)
    meta = json.loads((store.root / LY.METADATA).read_text())
    meta["files"][path.relative_to(store.root).as_posix()] = rec.to_json()
    (store.root / LY.METADATA).write_text(json.dumps(meta))


def test_non_finite_pooled_features_and_statistics_are_refused_for_fitting(store):
    from musicinterp.store import layout as LY
    from musicinterp.store.errors import StoreNonFiniteError
    from musicinterp.store.tensorfile import read_tensors

    pooled = LY.pooled_path(store.root, "resid", store.chunk_names[0])
    views = read_tensors(pooled, ValueError)
    views["mean"][0, 0, 0] = float("nan")
    _rewrite(store, pooled, views)
    with pytest.raises(StoreNonFiniteError, match=f"{pooled}: tensor 'mean' holds 1 NaN or inf values"):
        ActivationStore.open(store.root).probe_view("resid")
    stats_path = LY.stats_path(store.root, "attn_z")
    stats = read_tensors(stats_path, ValueError)
    stats["m2"][1, 3] = float("inf")
    _rewrite(store, stats_path, stats)
    with pytest.raises(StoreNonFiniteError, match=f"{stats_path}: tensor 'm2'"):
        ActivationStore.open(store.root).stats("attn_z")


def test_tables_are_checked_against_their_checksum_when_read(store):
    from musicinterp.store import layout as LY
    from musicinterp.store.errors import StoreChecksumError

    fresh = ActivationStore.open(store.root)
    assert fresh.clips.num_rows == 12 and fresh.index.num_rows == 132
    _flip(store.root / LY.CLIPS, at=200)  # inside the data pages: the footer (checked on open) still reads
    with pytest.raises(StoreChecksumError, match="clips.parquet: fails its Fletcher-64 checksum"):
        ActivationStore.open(store.root).clips.num_rows  # noqa: B018 (reading is the test)
