import torch

from musicinterp import trace_codes
from musicinterp.steering import (
    ITIConfig,
    ITISteerer,
)


def test_iti_adds_alpha_sigma_theta_to_its_heads(tiny_store):
    model, store = tiny_store
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0))
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read=["attn_z"])
    res = trace_codes(model, codes, read=["attn_z"], interventions=iti.prepare(model).interventions)
    heads = [tuple(h) for h in iti.tensors["heads"].tolist()]
    first = min(layer for layer, _ in heads)
    diff = res.activations["attn_z"] - base.activations["attn_z"]  # (B, L, T, H, hd)
    for i, (layer, head) in enumerate(heads):
        if layer == first:
            want = 4.0 * iti.tensors["sigma"][i] * iti.tensors["directions"][i]
            assert torch.allclose(diff[:, layer, :, head], want.expand_as(diff[:, layer, :, head]), atol=1e-5)
    untouched = [(layer, h) for layer in range(2) for h in range(4) if (layer, h) not in heads and layer <= first]
    for layer, h in untouched:
        assert diff[:, layer, :, h].abs().max() < 1e-6
    assert torch.allclose(iti.tensors["directions"].norm(dim=-1), torch.ones(3), atol=1e-5)


