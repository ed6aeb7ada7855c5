"""SAE feature sets: selection by AUC, and the add mode's keep-set and bounded edit along decoder rows."""

import pytest
import torch

from musicinterp import trace_codes
from musicinterp.sae import FeatureAnalysis, train
from musicinterp.sae.errors import SAEConfigError
from musicinterp.steering import SteererConfigError
from musicinterp.steering.bounded import joint_edit, joint_map, unit
from musicinterp.steering.keep import cosines
from musicinterp.steering.sae import SAESteerer, SAESteererConfig
from musicinterp.steering.sae_sets import select_features, site_matrix


def _analysis(auc):
    """A hand-made analysis: features' pooled activations separate the classes in the order of ``auc``."""
    auc = torch.tensor(auc)
    n = 10
    y = torch.tensor([0, 1] * (n // 2))
    pooled = y[:, None].float() * auc[None] + 0.01 * torch.arange(n)[:, None]
    return FeatureAnalysis(sae=None, store=None, clip_ids=[str(i) for i in range(n)], labels={"drums": y},
                           pooled=pooled, peak=pooled, density=torch.ones(len(auc)), mean_active=torch.ones(len(auc)),
                           hist=torch.zeros(len(auc), 1), auc={"drums": auc})


def test_the_set_is_every_feature_passing_the_auc_threshold_in_rank_order():
    a = _analysis([0.55, 0.95, 0.8, float("nan"), 0.91])
    assert select_features(a, "drums", min_auc=0.9) == [1, 4]
    assert select_features(a, "drums", min_auc=0.8) == [1, 4, 2]
    assert select_features(a, "drums", n_features=2) == [1, 4]
    with pytest.raises(SAEConfigError, match="no feature reaches"):
        select_features(a, "drums", min_auc=0.99)


def test_config_refuses_precision_fields_outside_add():
    with pytest.raises(SteererConfigError, match="min_auc"):
        SAESteererConfig(min_auc=1.5)
    with pytest.raises(SteererConfigError, match="keep"):
        SAESteererConfig(mode="clamp", keep=("bass",))
    with pytest.raises(SteererConfigError, match="edit"):
        SAESteererConfig(when="when_active", edit="bounded")


@pytest.fixture(scope="module")
def sae2(two_concepts):
    _, store = two_concepts
    return train(store, "resid", layer=1, dict_size=32, k=4, steps=30, batch_size=64, shuffle_buffer=128,
                 progress=False)


def _resid(model, codes, steerer=None):
    ivs = steerer.prepare(model).edits if steerer is not None else []
    return trace_codes(model, codes, read={"resid": [1]}, interventions=ivs, logits=False).activations["resid"][:, 0]


def test_sae_add_with_a_keep_set_leaves_the_kept_readout(two_concepts, sae2):
    model, store = two_concepts
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae2, min_auc=0.5, keep=("bass",), strength=3.0))
    assert len(st.features) >= 1 and st.keep_report()["cos_after"].abs().max() < 1e-6
    x, labels = site_matrix(store, sae2)
    k = x[labels["bass"] == 1].mean(0) - x[labels["bass"] == 0].mean(0)
    assert cosines(st.tensors["steer_dirs"], k.expand(len(st.features), 1, -1)).abs().max() < 1e-6
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(2))
    diff = _resid(model, codes, st) - _resid(model, codes)
    assert diff.abs().max() > 1e-3 and (diff @ k).abs().max() < 1e-4 * diff.norm(dim=-1).max() * k.norm()


def test_sae_bounded_lands_on_the_levels_of_the_feature_set(two_concepts, sae2):
    model, store = two_concepts
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae2, n_features=2, edit="bounded", strength=1.0))
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(3))
    base, out = _resid(model, codes), _resid(model, codes, st)
    u = unit(sae2.directions[:, st.features].T)
    assert torch.allclose(out, joint_edit(base, u, st.tensors["target_pos"], joint_map(u), 1.0), atol=1e-4)
    assert torch.allclose(out @ u.T, st.tensors["target_pos"].expand_as(out @ u.T), atol=1e-3)


def test_the_random_control_of_a_keep_set_sae_edits_along_random_rows(two_concepts, sae2):
    """The edit reads the projected rows (steer_dirs): its control must replace those, norm for norm (one
    feature, so the edit's norm is its row's)."""
    from musicinterp.steering import random_control

    model, store = two_concepts
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae2, n_features=1, keep=("bass",), strength=3.0))
    ctl = random_control(st, seed=5)
    a, b = st.tensors["steer_dirs"], ctl.tensors["steer_dirs"]
    assert torch.allclose(a.norm(dim=-1), b.norm(dim=-1), atol=1e-5)
    assert (torch.nn.functional.cosine_similarity(a, b, dim=-1).abs() < 0.9).all()
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(6))
    base = _resid(model, codes)
    real, rand = _resid(model, codes, st) - base, _resid(model, codes, ctl) - base
    assert torch.allclose(real.norm(dim=-1), rand.norm(dim=-1), rtol=1e-3)
    assert torch.nn.functional.cosine_similarity(real, rand, dim=-1).abs().max() < 0.9
