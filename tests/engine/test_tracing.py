import pytest
import torch

from musicinterp import StepWindow, add, trace_codes


def test_untouched_trace_reproduces_forward_logits_exactly(tiny, codes, tiny_ids):
    cond = tiny.conditioning(input_ids=tiny_ids)
    res = trace_codes(tiny, codes, cond=cond, read=["attn_z", "resid", "mlp_out", "cross_z"])
    assert torch.equal(res.logits, tiny.forward_logits(codes, cond))
    assert res.activations["attn_z"].shape == (2, 2, 16, 4, 16)
    assert res.activations["resid"].shape == (2, 2, 16, 64)


def test_resid_read_equals_hidden_states(tiny, codes):
    res = trace_codes(tiny, codes, read={"resid": [0, 1]})
    out = tiny.hf(**tiny.forward_inputs(codes), output_hidden_states=True)
    # decoder_hidden_states[l + 1] is layer l's output (the last one after the final norm is separate)
    assert torch.allclose(res.activations["resid"][:, 0], out.decoder_hidden_states[1], atol=1e-6)


def test_head_edit_acts_only_from_its_layer(tiny, codes):
    base = trace_codes(tiny, codes, read=["attn_z", "resid"])
    edit = add("attn_z", 1, torch.full((16,), 3.0), heads=[2])
    res = trace_codes(tiny, codes, read=["attn_z", "resid"], interventions=[edit])
    assert torch.equal(res.activations["resid"][:, 0], base.activations["resid"][:, 0])
    assert torch.equal(res.activations["attn_z"][:, 0], base.activations["attn_z"][:, 0])
    z_diff = res.activations["attn_z"][:, 1] - base.activations["attn_z"][:, 1]
    assert torch.allclose(z_diff[..., 2, :], torch.full_like(z_diff[..., 2, :], 3.0))
    assert z_diff[..., [0, 1, 3], :].abs().max() == 0
    assert (res.logits - base.logits).abs().max() > 1e-3


def test_cfg_rows_edit_leaves_unconditional_rows(tiny, codes, tiny_ids):
    cond = tiny.conditioning(input_ids=tiny_ids)
    base = trace_codes(tiny, codes, cond=cond, cfg_rows=True)
    edit = add("resid", 0, 2.0 * torch.randn(64, generator=torch.Generator().manual_seed(0)), rows="cond")
    res = trace_codes(tiny, codes, cond=cond, cfg_rows=True, interventions=[edit])
    assert base.logits.shape[0] == 4
    assert torch.equal(res.logits[2:], base.logits[2:])
    assert (res.logits[:2] - base.logits[:2]).abs().max() > 1e-3
    # unconditional rows are the null condition: equal to an unconditional forward
    assert torch.allclose(base.logits[2:], tiny.forward_logits(codes), atol=1e-5)


def test_bad_inputs_are_named(tiny, codes):
    with pytest.raises(ValueError, match="unknown site 'attn'"):
        trace_codes(tiny, codes, read=["attn"])
    with pytest.raises(ValueError, match=r"\(B, 4, T\)"):
        trace_codes(tiny, codes[:, :3])
    with pytest.raises(ValueError, match="heads= only applies"):
        add("resid", 0, torch.zeros(64), heads=[0])
    with pytest.raises(ValueError, match="layer 5 out of range"):
        trace_codes(tiny, codes, read={"resid": [5]})
    with pytest.raises(ValueError, match="invalid step window"):
        StepWindow(5, 2)
