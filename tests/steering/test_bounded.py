"""Bounded (affine) edits: the projection moves toward a class level by a fraction and never overshoots."""

import pytest
import torch

from musicinterp import trace_codes
from musicinterp.steering import DiffMeansConfig, DiffMeansSteerer, ITIConfig, ITISteerer, SteererConfigError
from musicinterp.steering.bounded import bounded_edit, class_levels, joint_edit, joint_map, target_of, unit


def test_an_activation_already_at_the_level_is_left_alone():
    v = unit(torch.randn(16))
    x = torch.randn(5, 16)
    x = x - (x @ v)[:, None] * v + 2.5 * v  # every x.v == 2.5
    out = bounded_edit(x, v, torch.tensor(2.5), torch.full((5, 1), 0.7))
    assert torch.allclose(out, x, atol=1e-6)


def test_removal_with_beta_one_lands_exactly_on_the_negative_level():
    v = unit(torch.randn(3, 8))  # three heads
    neg = torch.tensor([-1.0, 0.5, 2.0])
    x = torch.randn(4, 6, 3, 8) * 3
    out = bounded_edit(x, v, neg, 1.0)
    assert torch.allclose((out * v).sum(-1), neg.expand(4, 6, 3), atol=1e-5)
    assert torch.allclose(out - (out * v).sum(-1, keepdim=True) * v, x - (x * v).sum(-1, keepdim=True) * v, atol=1e-5)


def test_a_fraction_moves_part_of_the_way_and_a_weight_scales_it():
    v = unit(torch.randn(8))
    x = torch.randn(10, 8)
    out = bounded_edit(x, v, torch.tensor(3.0), 0.25, weight=torch.tensor(2.0))
    assert torch.allclose(out @ v, x @ v + 0.5 * (3.0 - x @ v), atol=1e-5)


def test_joint_edit_lands_several_directions_on_their_levels():
    dirs = torch.randn(3, 10)
    m = torch.tensor([1.0, -2.0, 0.5])
    x = torch.randn(7, 10)
    out = joint_edit(x, dirs, m, joint_map(dirs), 1.0)
    assert torch.allclose(out @ dirs.T, m.expand(7, 3), atol=1e-4)
    single = unit(dirs[:1])
    assert torch.allclose(joint_edit(x, single, m[:1], joint_map(single), 0.5), bounded_edit(x, single[0], m[0], 0.5),
                          atol=1e-5)


def test_class_levels_are_mean_projections():
    x = torch.randn(20, 2, 4)
    y = torch.tensor([0, 1] * 10)
    v = unit(torch.randn(2, 4))
    pos, neg = class_levels(x, y, v)
    assert torch.allclose(pos, torch.einsum("ngd,gd->ng", x[y == 1], v).mean(0), atol=1e-6)
    assert torch.allclose(neg, torch.einsum("ngd,gd->ng", x[y == 0], v).mean(0), atol=1e-6)
    with pytest.raises(SteererConfigError):
        target_of({}, False, "iti")


def test_iti_bounded_lands_each_head_on_the_level(tiny_store):
    """Teacher-forced at the first steered layer: beta 1 puts every position's projection on the level."""
    model, store = tiny_store
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(3))
    for remove in (False, True):
        iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, edit="bounded", strength=1.0, remove=remove))
        heads = [tuple(h) for h in iti.tensors["heads"].tolist()]
        first = min(layer for layer, _ in heads)
        with iti.apply(model):
            z = trace_codes(model, codes, read=["attn_z"]).activations["attn_z"]
        level = iti.tensors["target_neg" if remove else "target_pos"]
        for i, (layer, head) in enumerate(heads):
            if layer == first:
                proj = z[:, layer, :, head] @ iti.tensors["directions"][i]
                assert torch.allclose(proj, level[i].expand_as(proj), atol=1e-4)


def test_diffmeans_bounded_is_the_affine_edit_and_saves_its_levels(tiny_store, tmp_path):
    model, store = tiny_store
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[0], edit="bounded", strength=0.5))
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(4))
    base = trace_codes(model, codes, read={"resid": [0]}).activations["resid"][:, 0]
    with dm.apply(model):
        out = trace_codes(model, codes, read={"resid": [0]}).activations["resid"][:, 0]
    u, m = unit(dm.tensors["v"][0]), dm.tensors["target_pos"][0]
    assert torch.allclose(out, bounded_edit(base, u, m, 0.5), atol=1e-4)
    back = DiffMeansSteerer.load(dm.save(tmp_path / "dm"))
    assert torch.equal(back.tensors["target_pos"], dm.tensors["target_pos"]) and back.config.edit == "bounded"
    with pytest.raises(SteererConfigError, match="edit"):
        DiffMeansConfig(edit="clamp")


def test_regression_and_smitin_bounded_move_toward_the_level(tiny_store):
    from musicinterp.steering import RegressionConfig, RegressionSteerer, SMITINConfig, SMITINSteerer

    model, store = tiny_store
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(8))
    reg = RegressionSteerer.fit(store, "drums", RegressionConfig(layers=[0], edit="bounded", strength=1.0))
    with reg.apply(model):
        h = trace_codes(model, codes, read={"resid": [0]}).activations["resid"][:, 0]
    proj = h @ reg.tensors["w"][0]
    assert torch.allclose(proj, reg.tensors["target_pos"][0].expand_as(proj), atol=1e-4)
    sm = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, edit="bounded", strength=1.0))
    base = trace_codes(model, codes, read=["attn_z"]).activations["attn_z"][:, 0]
    z = trace_codes(model, codes, read=["attn_z"], interventions=sm.prepare(model).edits).activations["attn_z"][:, 0]
    d, t, w = sm.tensors["directions"][:4], sm.tensors["target_pos"][:4], sm.tensors["soft_weights"][:4]
    want = bounded_edit(base, d, t, 1.0, weight=w)
    assert torch.allclose(z, want, atol=1e-4)
