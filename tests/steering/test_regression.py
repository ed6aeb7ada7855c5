import torch

from musicinterp import trace_codes
from musicinterp.steering import (
    RegressionConfig,
    RegressionSteerer,
)


def test_regression_update_is_norm_relative(tiny_store):
    model, store = tiny_store
    rg = RegressionSteerer.fit(store, "drums", RegressionConfig(strength=0.5, layers=[1]))
    assert torch.allclose(rg.tensors["w"].norm(dim=-1), torch.ones(2), atol=1e-5)
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read={"resid": [1]})
    res = trace_codes(model, codes, read={"resid": [1]}, interventions=rg.prepare(model).interventions)
    h = base.activations["resid"][:, 0]
    want = (h + 0.5 * h.norm(dim=-1, keepdim=True) * rg.tensors["w"][1]) / 1.5
    assert torch.allclose(res.activations["resid"][:, 0], want, atol=1e-5)
    assert rg.spec.rows == "cond"


