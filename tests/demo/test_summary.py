import torch

from musicinterp.demo.summary import summarise_activations


def test_rms_equals_one_read_with_plain_forward_hooks(tiny, codes):
    """Hooks on the Hugging Face modules give the same RMS over the valid positions."""
    z, r, hooks = {}, {}, []
    for i, layer in enumerate(tiny.hf.decoder.model.decoder.layers):
        hooks.append(layer.self_attn.out_proj.register_forward_hook(
            lambda mod, args, out, i=i: z.__setitem__(i, args[0].detach())))
        hooks.append(layer.register_forward_hook(
            lambda mod, args, out, i=i: r.__setitem__(i, (out[0] if isinstance(out, tuple) else out).detach())))
    try:
        tiny.forward_logits(codes)
    finally:
        for h in hooks:
            h.remove()
    valid = list(tiny.valid_positions(codes.shape[-1]))
    s = summarise_activations(tiny, codes)
    assert s.head_rms.shape == (2, 4) and s.resid_rms.shape == (2,)
    for i in range(tiny.n_layers):
        heads = z[i][:, valid].reshape(2, len(valid), tiny.n_heads, tiny.head_dim)
        torch.testing.assert_close(s.head_rms[i], heads.pow(2).mean(dim=(0, 1, 3)).sqrt(), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(s.resid_rms[i], r[i][:, valid].pow(2).mean().sqrt(), rtol=1e-4, atol=1e-6)
    table = s.table().splitlines()
    assert len(table) == 3 and table[0].startswith("layer  resid") and table[1].startswith("    0")
