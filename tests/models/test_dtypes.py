"""float32, bfloat16 and float16 on CPU: load, generate, trace, and a steerer applied, on ``tiny``."""

import pytest
import torch

import musicinterp as mi
from musicinterp.steering.base import SteerRun


def _planted_set(n: int = 12) -> mi.ConceptSet:
    codes = torch.randint(0, 2048, (n, 4, 8), generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([i % 2 for i in range(n)])
    codes[labels == 1, 1, :] = 7
    ids = [f"c{i}" for i in range(n)]
    return mi.ConceptSet("planted", {"drums": labels}, ids, ids, codes=codes)


def _half_matmul_on_cpu() -> bool:
    try:
        torch.nn.functional.linear(torch.ones(2, 4, dtype=torch.float16), torch.ones(3, 4, dtype=torch.float16))
        torch.nn.functional.layer_norm(torch.ones(2, 4, dtype=torch.float16), (4,))
    except RuntimeError:
        return False
    return True


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=str)
def test_tiny_in_every_precision(dtype, device, tmp_path, monkeypatch):
    if device == "cpu" and dtype == torch.float16 and not _half_matmul_on_cpu():
        pytest.skip("this CPU build of torch has no float16 linear/layer_norm kernels")
    model = mi.load_model("tiny", dtype=dtype, device=device)
    assert model.dtype == dtype and all(p.dtype == dtype for p in model.hf.decoder.parameters())
    assert model.device.type == device

    ids = torch.randint(1, 64, (2, 5), generator=torch.Generator().manual_seed(1))
    plain = mi.generate(model, input_ids=ids, n_frames=3, seed=0, record_logits=True)
    assert plain.codes.shape == (2, 4, 3) and torch.isfinite(plain.logits.float()).all()

    traced = mi.trace_codes(model, _planted_set().codes[:2], read={"resid": [1], "attn_z": [0]})
    assert traced.activations["resid"].dtype == dtype
    assert traced.activations["attn_z"].shape[-2:] == (model.n_heads, model.head_dim)

    store = mi.collect(model, _planted_set(), ["resid"], out=tmp_path / "store", progress=False)
    steerer = mi.DiffMeansSteerer.fit(store, "drums", mi.DiffMeansConfig(strength=4.0, layers=[1]))
    assert steerer.tensors["v"].dtype == torch.float32  # artifacts stay float32; cast at use
    conversions = []  # the steering vector is cast to the model's dtype once per generation, not per step
    cached = SteerRun.cached

    def spy(run, key, tensor, like):
        if (key, like.device, like.dtype) not in run._cache:
            conversions.append((key, like.dtype, like.device.type))
        return cached(run, key, tensor, like)

    monkeypatch.setattr(SteerRun, "cached", spy)
    with steerer.apply(model):
        steered = mi.generate(model, input_ids=ids, n_frames=3, seed=0, record_logits=True)
    assert torch.isfinite(steered.logits.float()).all()
    assert not torch.equal(steered.logits, plain.logits)
    assert conversions == [("L1", dtype, device)]
    assert len(steered.logs["diffmeans:drums"].steps) == plain.steps > 1
