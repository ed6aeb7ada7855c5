"""Keep-sets: directions projected off the kept concepts' span leave their readouts unchanged to first order."""

import pytest
import torch

from musicinterp import trace_codes
from musicinterp.steering import (
    ApplySpec,
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    RegressionConfig,
    RegressionSteerer,
    SMITINConfig,
    SMITINSteerer,
    Steerer,
    SteererConfigError,
)
from musicinterp.steering.keep import apply_keep, cosines, kept_directions, orthonormal_basis, project_off


def test_projection_removes_the_span_and_keeps_the_rest():
    g = torch.Generator().manual_seed(0)
    kept = torch.randn(3, 2, 8, generator=g)
    kept[1, 1] = 2 * kept[1, 0]  # a rank-deficient group
    v = torch.randn(3, 8, generator=g)
    new = project_off(v, kept)
    assert cosines(new, kept).abs().max() < 1e-6
    q = orthonormal_basis(kept)
    assert torch.allclose((v - new).double(), torch.einsum("gdn,gn->gd", q, torch.einsum("gdn,gd->gn", q, v.double())),
                          atol=1e-6)
    out, cos = apply_keep(v, kept, unit=True)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-6)
    assert cos["keep_cos_after"].abs().max() < 1e-6 and cos["keep_cos_before"].abs().min() > 0


def test_a_direction_inside_the_kept_span_is_refused():
    kept = torch.randn(1, 2, 5)
    with pytest.raises(SteererConfigError, match="span"):
        apply_keep(kept[:, 0] + kept[:, 1], kept, unit=True)


def _fit(method, store, **kw):
    cfgs = {"iti": (ITISteerer, ITIConfig(k=3, **kw)), "smitin": (SMITINSteerer, SMITINConfig(monitor_heads=4, **kw)),
            "diffmeans": (DiffMeansSteerer, DiffMeansConfig(layers=[1], **kw)),
            "regression": (RegressionSteerer, RegressionConfig(layers=[0], **kw))}
    cls, cfg = cfgs[method]
    return cls.fit(store, "drums", cfg)


@pytest.mark.parametrize("method", ["iti", "smitin", "diffmeans", "regression"])
def test_every_direction_method_is_orthogonal_to_its_kept_directions(two_concepts, method):
    _, store = two_concepts
    st = _fit(method, store, keep=("bass",))
    report = st.keep_report()
    assert len(report) == st.tensors["keep_cos_after"].numel() and set(report["kept"]) == {"bass"}
    assert report["cos_after"].abs().max() < 1e-6
    assert report["cos_before"].abs().max() > 1e-3  # the projection had something to remove
    site = "attn_z" if method in ("iti", "smitin") else "resid"
    kept = kept_directions(store, site, ["bass"])[:, 0]
    vec = {"iti": "directions", "smitin": "directions", "diffmeans": "v", "regression": "w"}[method]
    v = st.tensors[vec]
    if method == "iti":
        h = st.tensors["heads"]
        kept = kept[h[:, 0] * 4 + h[:, 1]]
    assert (torch.nn.functional.cosine_similarity(v.double(), kept.double(), dim=-1).abs() < 1e-6).all()


def test_keep_is_validated_and_survives_save_and_load(two_concepts, tmp_path):
    _, store = two_concepts
    with pytest.raises(SteererConfigError, match="keep"):
        ITIConfig(keep=("bass", "bass"))
    with pytest.raises(SteererConfigError, match="being steered"):
        _fit("iti", store, keep=("drums",))
    with pytest.raises(SteererConfigError, match="no labels"):
        _fit("diffmeans", store, keep=("tempo",))
    st = _fit("diffmeans", store, keep=("bass",))
    back = Steerer.load(st.save(tmp_path / "dm"))
    assert back.config.keep == ("bass",)
    assert back.keep_report().equals(st.keep_report())
    assert _fit("diffmeans", store).keep_report().empty


def test_keep_store_gives_the_kept_directions(two_concepts):
    _, store = two_concepts
    a = _fit("diffmeans", store, keep=("bass",))
    b = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[1], keep=("bass",)), keep_store=store)
    assert torch.allclose(a.tensors["v"], b.tensors["v"]) and b.meta["keep_store"] == str(store.root)


def test_kept_readout_does_not_move_under_iti_steering(two_concepts):
    """Teacher-forced inside ``apply``: at the first steered layer the heads move, the kept readouts do not."""
    model, store = two_concepts
    codes = torch.randint(0, 2048, (3, 4, 12), generator=torch.Generator().manual_seed(5))
    kept = kept_directions(store, "attn_z", ["bass"])[:, 0].reshape(2, 4, -1)
    base = trace_codes(model, codes, read=["attn_z"]).activations["attn_z"]
    for keep, small in (((), False), (("bass",), True)):
        iti = _fit("iti", store, keep=keep, strength=4.0)
        layer = int(iti.tensors["heads"][:, 0].min())
        with iti.apply(model):
            steered = trace_codes(model, codes, read=["attn_z"]).activations["attn_z"]
        diff = (steered - base)[:, layer]  # (B, T, H, hd)
        moved = torch.einsum("bthd,hd->bth", diff.double(), kept[layer].double()).abs().max()
        scale = diff.abs().max() * kept[layer].norm(dim=-1).max()
        assert diff.abs().max() > 1e-3
        assert (moved < 1e-4 * scale) if small else (moved > 1e-2 * scale)


def test_kept_readout_does_not_move_under_diffmeans_steering(two_concepts):
    model, store = two_concepts
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(6))
    kept = kept_directions(store, "resid", ["bass"])[:, 0]
    dm = _fit("diffmeans", store, keep=("bass",), strength=2.0)
    base = trace_codes(model, codes, read={"resid": [1]}).activations["resid"]
    with dm.apply(model, spec=ApplySpec(layers=[1])):
        steered = trace_codes(model, codes, read={"resid": [1]}).activations["resid"]
    diff = (steered - base)[:, 0].double()
    assert diff.abs().max() > 0.01
    assert (diff @ kept[1].double()).abs().max() < 1e-4 * kept[1].norm()


def test_keep_parses_from_overrides():
    from musicinterp.steering import config_from_overrides

    cfg = config_from_overrides(DiffMeansConfig, ["keep=bass, lead", "edit=bounded"])
    assert cfg.keep == ("bass", "lead") and cfg.edit == "bounded"
    assert DiffMeansConfig.from_dict(cfg.to_dict()) == cfg
