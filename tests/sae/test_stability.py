"""Feature-set stability across seeds: permuted dictionaries match exactly, other seeds less."""

import copy

import pytest
import torch

from musicinterp.sae import SAEConfigError, analyze, stability, train


@pytest.fixture(scope="module")
def sae(frames_store):
    return train(frames_store, "resid", layer=1, dict_size=32, k=4, steps=30, batch_size=64, shuffle_buffer=128,
                 progress=False)


def _permuted(sae, perm):
    twin = copy.deepcopy(sae)
    with torch.no_grad():
        twin.ae.decoder.weight.copy_(sae.ae.decoder.weight[:, perm])
        twin.ae.encoder.weight.copy_(sae.ae.encoder.weight[perm])
        twin.ae.encoder.bias.copy_(sae.ae.encoder.bias[perm])
    return twin


def test_permuted_decoders_match_with_cosine_one(sae, frames_store):
    perm = torch.randperm(sae.dict_size, generator=torch.Generator().manual_seed(0))
    res = stability([sae, _permuted(sae, perm)], "drums", store=frames_store, n_features=3)
    assert len(res.features) == 3
    assert torch.allclose(res.best_match[0], torch.ones(3, dtype=torch.float32), atol=1e-5)
    assert res.mean == pytest.approx(1.0, abs=1e-5)
    assert res.best_feature_cos[0] == pytest.approx(1.0, abs=1e-5)
    assert bool(res.match_in_set[0].all())
    table = res.table()
    assert list(table.columns) == ["other", "feature", "best_match", "match_in_set"] and len(table) == 3


def test_analyses_and_trained_seeds_are_accepted(sae, frames_store):
    a = analyze(sae, frames_store, probes=False, progress=False)
    res = stability([a, a], "drums", min_auc=0.5)
    assert res.mean == pytest.approx(1.0, abs=1e-5)
    trained = stability(None, "drums", store=frames_store, seeds=[1, 2], layer=1, dict_size=32, k=4, steps=20,
                        batch_size=64, shuffle_buffer=128, n_features=2)
    assert len(trained.best_match) == 1 and 0 < trained.mean <= 1.0 + 1e-6


def test_bad_inputs_are_refused(sae, frames_store):
    with pytest.raises(SAEConfigError, match="two or more"):
        stability([sae], "drums", store=frames_store)
    with pytest.raises(SAEConfigError, match="store="):
        stability([sae, sae], "drums")
    with pytest.raises(SAEConfigError, match="seeds="):
        stability(None, "drums")
