import torch

from musicinterp import trace_codes
from musicinterp.steering import (
    ApplySpec,
    DiffMeansConfig,
    DiffMeansSteerer,
)


def test_diffmeans_vector_is_the_class_mean_difference(tiny_store):
    model, store = tiny_store
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(strength=1.0))
    frames = torch.stack([store.read_frames("resid", layer) for layer in range(2)], dim=1).double()
    drums = torch.tensor(store.index.column("label_drums").to_pylist())
    want = frames[drums == 1].mean(0) - frames[drums == 0].mean(0)
    assert torch.allclose(dm.tensors["v"].double(), want, atol=1e-4)
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read={"resid": [0]})
    spec = ApplySpec(layers=[0])
    res = trace_codes(model, codes, read={"resid": [0]},
                      interventions=dm.prepare(model, strength=0.5, spec=spec).interventions)
    assert torch.allclose(res.activations["resid"] - base.activations["resid"],
                          (0.5 * dm.tensors["v"][0]).expand_as(base.activations["resid"]), atol=1e-5)


