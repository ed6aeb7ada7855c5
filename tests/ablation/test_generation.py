"""Generation-time ablation: skip is exactly the identity layer, means come from the store, bad specs fail."""

import pytest
import torch

import musicinterp as mi
from musicinterp.ablation.cells import LAYER, Cell, Target
from musicinterp.ablation.generation import AblationSpec, ablation_interventions
from musicinterp.ablation.inputs import AblationInputError
from musicinterp.ablation.metrics import KLToClean
from musicinterp.ablation.modes import skip_setter, store_means
from musicinterp.ablation.sweep import record, run_cells


def test_skip_interventions_equal_the_identity_layer(tiny, tiny_inputs):
    """Zeroing attn_z, cross_z and mlp_out (what generation does) == output := input (teacher-forced skip)."""
    ivs = ablation_interventions(tiny, mode="skip", layers=[1])
    res = mi.trace_codes(tiny, tiny_inputs.codes, cond=tiny_inputs.cond, interventions=ivs, read={"resid": [0, 1]})
    torch.testing.assert_close(res.activations["resid"][:, 1], res.activations["resid"][:, 0], atol=0, rtol=0)
    base = record(tiny, tiny_inputs, KLToClean())
    skipped = run_cells(tiny, tiny_inputs, [Cell((0,), (Target(1, LAYER),))], skip_setter(), KLToClean(),
                        reference=base.logp, batched=False)
    logp = torch.log_softmax(tiny.logits_to_frames(res.logits, tiny_inputs.n_frames), -1)
    kl = (base.logp.exp() * (base.logp - logp)).sum(-1).mean(dim=(0, 2))
    torch.testing.assert_close(skipped[0], kl, atol=1e-6, rtol=0)


def test_mean_interventions_write_store_means(tiny, tiny_inputs, tiny_store):
    spec = AblationSpec(mode="mean", site="attn_z", heads=[(0, 1), (0, 3)], store=tiny_store)
    res = mi.trace_codes(tiny, tiny_inputs.codes, cond=tiny_inputs.cond, interventions=spec.interventions(tiny),
                         read={"attn_z": [0]})
    z = res.activations["attn_z"][:, 0]  # (B, T+K, H, hd)
    means = store_means(tiny, tiny_store, "attn_z")
    torch.testing.assert_close(z[:, :, 1], means[0, 1].expand_as(z[:, :, 1]))
    torch.testing.assert_close(z[:, :, 3], means[0, 3].expand_as(z[:, :, 3]))
    assert not torch.allclose(z[:, :, 0], means[0, 0].expand_as(z[:, :, 0]))


def test_ablated_generation_changes_codes(tiny, tiny_ids):
    kw = dict(input_ids=tiny_ids, n_frames=6, seed=0, do_sample=False, decode_audio=False)
    plain = mi.generate(tiny, **kw)
    ablated = mi.generate(tiny, interventions=ablation_interventions(tiny, mode="zero", site="mlp_out",
                                                                     layers=[0, 1]), **kw)
    assert ablated.codes.shape == plain.codes.shape
    assert not torch.equal(ablated.codes, plain.codes)


def test_bad_specs_fail_clearly(tiny, tiny_store):
    with pytest.raises(AblationInputError, match="resample needs another clip"):
        ablation_interventions(tiny, mode="resample", layers=[0])
    with pytest.raises(AblationInputError, match="heads: mode='skip'"):
        ablation_interventions(tiny, mode="skip", heads=[(0, 1)])
    with pytest.raises(AblationInputError, match="give heads="):
        ablation_interventions(tiny, mode="zero")
    with pytest.raises(AblationInputError, match="heads: head index 7 out of range"):
        ablation_interventions(tiny, mode="zero", heads=[(0, 7)])
    with pytest.raises(AblationInputError, match="store: mode='mean' needs"):
        ablation_interventions(tiny, mode="mean", heads=[(0, 1)])
    with pytest.raises(AblationInputError, match="heads: site 'resid' has no heads"):
        ablation_interventions(tiny, mode="mean", site="resid", heads=[(0, 1)], store=tiny_store)
