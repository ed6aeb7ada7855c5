import torch

from musicinterp import trace_codes
from musicinterp.collect.trace import read_layers


def test_reads_equal_a_full_trace_at_the_chosen_positions(tiny, codes):
    pos = torch.tensor([4, 7, 15])
    got = read_layers(tiny, codes, sites=["resid", "attn_z", "mlp_out"], positions=pos)
    ref = trace_codes(tiny, codes, read=["resid", "attn_z", "mlp_out"], frames="all", logits=False).activations
    for site, layers in got.items():
        assert len(layers) == tiny.n_layers
        for layer, v in enumerate(layers):
            assert v.shape == (2, 3, *tiny.site_shape(site))
            assert torch.equal(v, ref[site][:, layer, pos])


def test_the_forward_stops_after_the_last_read(tiny, codes):
    calls = []
    hooks = [head.register_forward_hook(lambda *a: calls.append(1)) for head in tiny.hf.decoder.lm_heads]
    try:
        read_layers(tiny, codes, sites=["resid"], positions=torch.tensor([4]))
    finally:
        for h in hooks:
            h.remove()
    assert calls == []  # the output heads (logits of every codebook) never ran
