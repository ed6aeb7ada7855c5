import pytest

from musicinterp.models.sites import SITES, execution_key, get_site


def test_execution_order_is_the_order_the_forward_pass_reaches_the_sites(tiny, tiny_ids, codes):
    """Hooks on the Hugging Face modules record the order; the sort key must agree with it."""
    seen = []
    hooks = []
    for i, layer in enumerate(tiny.hf.decoder.model.decoder.layers):
        for site, module in (("attn_z", layer.self_attn.out_proj), ("cross_z", layer.encoder_attn.out_proj),
                             ("mlp_out", layer.fc2), ("resid", layer)):
            hooks.append(module.register_forward_hook(lambda *_, key=(i, site): seen.append(key)))
    try:
        tiny.forward_logits(codes, tiny.conditioning(input_ids=tiny_ids))
    finally:
        for h in hooks:
            h.remove()
    assert len(seen) == 4 * tiny.n_layers
    assert sorted(seen, key=lambda k: execution_key(*k)) == seen


def test_sites_and_their_shapes(tiny):
    assert [s for s in SITES if SITES[s].per_head] == ["attn_z", "cross_z"]
    assert [tiny.site_shape(s) for s in SITES] == [(4, 16), (4, 16), (64,), (64,)]
    assert get_site("resid") is SITES["resid"]
    with pytest.raises(ValueError, match="unknown site 'attn'; known sites: attn_z, cross_z, mlp_out, resid"):
        get_site("attn")
