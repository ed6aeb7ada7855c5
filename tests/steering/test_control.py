"""Random-direction controls: the same edit norms at the same places, along other directions."""

import pytest
import torch

from musicinterp.engine.tracing import trace_codes
from musicinterp.steering import (
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    control_of,
    controls,
    random_control,
)
from musicinterp.steering.configs import SteererConfigError


def test_iti_control_keeps_each_heads_norm_and_sigma_but_not_its_direction(tiny_store_for_compare):
    _, store = tiny_store_for_compare
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=4))
    ctl = random_control(iti, seed=3)
    a, b = iti.tensors["directions"], ctl.tensors["directions"]
    assert torch.allclose(a.norm(dim=-1), b.norm(dim=-1), atol=1e-6)
    assert torch.equal(ctl.tensors["sigma"], iti.tensors["sigma"]) and torch.equal(ctl.tensors["heads"],
                                                                                    iti.tensors["heads"])
    assert (torch.nn.functional.cosine_similarity(a, b, dim=-1).abs() < 0.9).all()
    assert torch.equal(random_control(iti, seed=3).tensors["directions"], b)  # fixed seed, same draw
    assert ctl.meta["control"] == {"of": "iti", "seed": 3, "tensor": "directions"}


def test_a_control_edit_has_the_methods_norm_at_the_edited_layer(tiny_store_for_compare):
    """Teacher-forced: the change of the edited layer's output has the same norm under both, other direction."""
    model, store = tiny_store_for_compare
    layer = model.n_layers - 1
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[layer]))
    ctl = random_control(dm, seed=1)
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(0))
    plain = trace_codes(model, codes, read={"resid": [layer]}, logits=False).activations["resid"]
    deltas = []
    for s in (dm, ctl):
        with s.apply(model, strength=2.0):
            deltas.append(trace_codes(model, codes, read={"resid": [layer]}, logits=False).activations["resid"] - plain)
    norms = [d.norm(dim=-1) for d in deltas]
    assert torch.allclose(norms[0], norms[1], rtol=1e-4) and norms[0].min() > 0
    cos = torch.nn.functional.cosine_similarity(deltas[0], deltas[1], dim=-1)
    assert cos.abs().max() < 0.9


def test_controls_are_named_after_their_method(tiny_store_for_compare):
    _, store = tiny_store_for_compare
    made = controls({"iti": ITISteerer.fit(store, "drums", ITIConfig(k=2))}, draws=2)
    assert list(made) == ["iti~random0", "iti~random1"]
    assert control_of("iti~random1") == "iti" and control_of("iti") is None
    assert not torch.equal(made["iti~random0"].tensors["directions"], made["iti~random1"].tensors["directions"])


def test_a_method_without_directions_has_no_control():
    class Fake:
        method, concept = "ablation", "drums"

    with pytest.raises(SteererConfigError, match="no random-direction control"):
        random_control(Fake())
