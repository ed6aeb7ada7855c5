import math

import pytest
import torch

from musicinterp.sae import architectures
from musicinterp.sae import training as train
from musicinterp.sae.checkpoint import CHECKPOINT
from musicinterp.sae.errors import SAEConfigError, SAETrainingError

FAST = {"dict_size": 32, "k": 4, "steps": 12, "batch_size": 64, "shuffle_buffer": 128, "progress": False}


def _state(sae):
    return {k: v.clone() for k, v in sae.ae.state_dict().items()}


def test_norm_factor_matches_the_frames(frames_store):
    x = frames_store.read_frames("resid", 1).double()
    want = math.sqrt(x.pow(2).sum(1).mean().item() / x.shape[1])
    assert train.norm_factor(frames_store, "resid", 1) == pytest.approx(want, rel=1e-6)
    xh = frames_store.read_frames("attn_z", 0)[:, 2].double()
    want_h = math.sqrt(xh.pow(2).sum(1).mean().item() / xh.shape[1])
    assert train.norm_factor(frames_store, "attn_z", 0, head=2) == pytest.approx(want_h, rel=1e-6)


def test_trains_on_normalised_copies_with_unit_decoder_columns(frames_store, monkeypatch):
    seen = []
    real = architectures.make_trainer

    def spy(cfg, d_in, model_id="m"):
        trainer = real(cfg, d_in, model_id)
        update = trainer.update

        def recording(step, x):
            seen.append(x.clone())
            return update(step, x)

        trainer.update = recording
        return trainer

    monkeypatch.setattr(train, "make_trainer", spy)
    sae = train.train(frames_store, "resid", layer=1, **{**FAST, "steps": 30})
    x = torch.cat(seen)
    assert x.pow(2).sum(1).mean().item() / x.shape[1] == pytest.approx(1.0, rel=0.15)
    raw = frames_store.read_frames("resid", 1)
    assert x.pow(2).sum(1).mean() < raw.pow(2).sum(1).mean() or sae.norm_factor <= 1
    assert torch.allclose(sae.directions.norm(dim=0), torch.ones(sae.dict_size), atol=1e-5)
    assert sae.directions.shape == (frames_store.site_shape("resid")[0], 32)
    assert len(sae.meta["history"]) == 3 and {"fve", "l0", "dead"} <= set(sae.meta["history"][-1])


def test_encode_decode_work_in_model_units(frames_store):
    sae = train.train(frames_store, "resid", layer=0, **FAST)
    x = frames_store.read_frames("resid", 0)[:50]
    f = sae.encode(x)
    assert (f != 0).sum(1).max() <= 4
    want = sae.ae.decode(sae.ae.encode(x / sae.norm_factor)) * sae.norm_factor
    assert torch.allclose(sae.decode(f), want, atol=1e-5)
    i = int(f.abs().sum(0).argmax())
    assert torch.equal(sae.direction(i), sae.ae.decoder.weight[:, i])
    with pytest.raises(IndexError, match="feature 99"):
        sae.direction(99)


def test_seeded_runs_are_deterministic(frames_store):
    a, b = (_state(train.train(frames_store, "resid", layer=1, seed=5, **FAST)) for _ in range(2))
    c = _state(train.train(frames_store, "resid", layer=1, seed=6, **FAST))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["encoder.weight"], c["encoder.weight"])


def test_resumed_run_equals_uninterrupted(frames_store, tmp_path, monkeypatch):
    settings = {**FAST, "steps": 16, "seed": 2}
    whole = _state(train.train(frames_store, "resid", layer=1, **settings))
    real = architectures.make_trainer
    calls = {"n": 0}

    def dying(cfg, d_in, model_id="m"):
        trainer = real(cfg, d_in, model_id)
        update = trainer.update

        def maybe_die(step, x):
            calls["n"] += 1
            if calls["n"] == 11:
                raise KeyboardInterrupt
            return update(step, x)

        trainer.update = maybe_die
        return trainer

    monkeypatch.setattr(train, "make_trainer", dying)
    with pytest.raises(KeyboardInterrupt):
        train.train(frames_store, "resid", layer=1, out=tmp_path / "sae", checkpoint_every=4, **settings)
    assert (tmp_path / "sae" / CHECKPOINT).is_file() and not (tmp_path / "sae" / "sae.json").exists()
    monkeypatch.setattr(train, "make_trainer", real)
    resumed = train.train(frames_store, "resid", layer=1, out=tmp_path / "sae", checkpoint_every=4, **settings)
    got = _state(resumed)
    assert all(torch.equal(whole[k], got[k]) for k in whole)
    assert [h["step"] for h in resumed.meta["history"]] == [10, 16]
    assert not (tmp_path / "sae" / CHECKPOINT).exists()
    # a finished artifact with the same settings is returned as is; other settings are refused
    again = train.train(frames_store, "resid", layer=1, out=tmp_path / "sae", **settings)
    assert torch.equal(again.ae.encoder.weight, resumed.ae.encoder.weight)
    with pytest.raises(SAEConfigError, match="dict_size"):
        train.train(frames_store, "resid", layer=1, out=tmp_path / "sae", **{**settings, "dict_size": 16})


def test_attn_z_flattened_and_one_head(frames_store, tiny_model):
    flat = train.train(frames_store, "attn_z", layer=1, **FAST)
    assert flat.d_in == tiny_model.d_model and flat.head is None
    one = train.train(frames_store, "attn_z", layer=1, head=3, **FAST)
    assert one.d_in == tiny_model.head_dim and one.head == 3


def test_batch_topk_gets_a_threshold_and_fails_loudly_without(frames_store, tmp_path, monkeypatch):
    sae = train.train(frames_store, "resid", layer=1, arch="batch_topk", **{**FAST, "steps": 20})
    assert sae.threshold > 0
    assert sae.training["threshold_start_step"] == 10
    from dictionary_learning.trainers.batch_top_k import BatchTopKTrainer

    monkeypatch.setattr(BatchTopKTrainer, "update_threshold", lambda self, f: None)
    with pytest.raises(SAETrainingError, match="threshold"):
        train.train(frames_store, "resid", layer=1, arch="batch_topk", out=tmp_path / "bt", **FAST)
    assert not (tmp_path / "bt" / "sae.json").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"site": "mlp_out"}, "no site 'mlp_out'"),
    ({"layer": 7}, "layer 7 is out of range"),
    ({"k": 40}, "k=40 is larger than dict_size=32"),
    ({"dict_size": 0}, "dict_size must be a positive integer"),
    ({"head": 1}, "head= applies to per-head sites"),
    ({"site": "attn_z", "head": 9}, "head 9 is out of range"),
    ({"arch": "relu"}, "arch must be one of"),
    ({"steps": 1}, "steps must be an integer >= 2"),
    ({"threshold_start_step": 11}, "threshold_start_step=11 must be well before the end"),
    ({"bogus": 1}, "unknown training settings: bogus"),
])
def test_bad_settings_are_named_and_nothing_is_written(frames_store, tmp_path, kwargs, match):
    args = {**FAST, "layer": 0, **kwargs}
    site = args.pop("site", "resid")
    with pytest.raises(SAEConfigError, match=match):
        train.train(frames_store, site, out=tmp_path / "sae", **args)
    assert not (tmp_path / "sae").exists()


def test_pooled_store_is_refused(pooled_store, tmp_path):
    with pytest.raises(SAEConfigError, match="frames='pooled'"):
        train.train(pooled_store, "resid", layer=0, out=tmp_path / "sae", **FAST)
    assert not (tmp_path / "sae").exists()
