import pytest
import torch

from musicinterp.engine.likelihood import nll_under
from musicinterp.sae import SAE, train
from musicinterp.sae.architectures import empty_dictionary
from musicinterp.sae.evaluate import evaluate, reconstruction_metrics, spliced_scores
from musicinterp.sae.training import norm_factor, store_digest
from musicinterp.views.sae import density_histogram
from musicinterp.world import WorldError

from .conftest import planted_set


def _handmade(store, model, *, perfect: bool) -> SAE:
    """A TopK SAE that reconstructs exactly (x = relu(x) - relu(-x)), or one where nothing ever fires."""
    d = model.d_model
    ae = empty_dictionary("topk", d, 2 * d, 2 * d)
    eye = torch.eye(d)
    with torch.no_grad():
        ae.encoder.weight.copy_(torch.cat([eye, -eye]))
        ae.decoder.weight.copy_(torch.cat([eye, -eye], dim=1))
        ae.encoder.bias.fill_(0.0 if perfect else -1e9)
        ae.b_dec.zero_()
    return SAE(ae=ae, arch="topk", norm_factor=norm_factor(store, "resid", 1), site="resid", layer=1, head=None,
               model_fingerprint=model.fingerprint, model_id=model.name, store_digest=store_digest(store),
               training={})


def test_perfect_sae_costs_nothing(frames_store, tiny_model):
    sae = _handmade(frames_store, tiny_model, perfect=True)
    rec = reconstruction_metrics(sae, frames_store, n_frames=None)
    assert rec["fve"] == pytest.approx(1.0, abs=1e-5) and rec["l2_ratio"] == pytest.approx(1.0, abs=1e-5)
    assert rec["n_frames"] == frames_store.meta["n_rows"]
    codes = planted_set().codes[:6]
    out = spliced_scores(sae, tiny_model, codes, progress=False)
    assert out["ce_sae"] == pytest.approx(out["ce_clean"], abs=1e-4) and out["kl_sae"] == pytest.approx(0, abs=1e-5)
    assert out["ce_loss_score"] == pytest.approx(1.0, abs=1e-3) and out["kl_div_score"] == pytest.approx(1.0, abs=1e-3)
    # the clean CE is the model's own next-code NLL (mean over codebooks, here summed)
    want = float(nll_under(tiny_model, codes).mean()) * tiny_model.n_codebooks
    assert out["ce_clean"] == pytest.approx(want, rel=1e-4)
    assert out["kl_zero"] > 0 and out["ce_zero"] != out["ce_clean"]


def test_silent_sae_scores_like_zero_ablation(frames_store, tiny_model):
    sae = _handmade(frames_store, tiny_model, perfect=False)
    rec = reconstruction_metrics(sae, frames_store, n_frames=None)
    assert rec["l0"] == 0 and rec["dead_fraction"] == 1.0 and rec["fve"] <= 0
    out = spliced_scores(sae, tiny_model, planted_set().codes[:6], progress=False)
    assert out["ce_loss_score"] == pytest.approx(0.0, abs=1e-4) and out["kl_div_score"] == pytest.approx(0, abs=1e-4)


def test_evaluate_a_trained_sae(frames_store, tiny_model):
    sae = train(frames_store, "resid", layer=1, dict_size=32, k=4, steps=30, batch_size=64, shuffle_buffer=128,
                progress=False)
    res = evaluate(sae, frames_store, tiny_model, n_clips=6, clips=planted_set(), progress=False)
    assert 0 < res.fve <= 1 and res.l0 == pytest.approx(4, abs=1e-6) and res.n_clips == 6
    assert res.density.shape == (32,) and res.dead_fraction == float((res.density == 0).float().mean())
    assert res.l0 == pytest.approx(float(res.density.sum()), rel=1e-5)  # L0 = sum of firing frequencies
    table = res.to_pandas()
    assert list(table.index) == ["all", "cb0", "cb1", "cb2", "cb3"]
    assert table.loc["all", "ce_loss_score"] == pytest.approx(res.ce_loss_score)
    assert res.most_damaged_codebook in {"cb0", "cb1", "cb2", "cb3"}
    assert "FVE" in repr(res) and len(repr(res)) < 200
    assert density_histogram(res).data  # the view reads the evaluation


def test_evaluate_needs_codes_for_non_organism_stores(frames_store, tiny_model):
    sae = _handmade(frames_store, tiny_model, perfect=True)
    with pytest.raises(WorldError, match="clips="):  # the tiny model's (audio) world cannot rewrite clips
        evaluate(sae, frames_store, tiny_model, n_clips=2, progress=False)
