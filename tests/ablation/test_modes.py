"""Ablation modes against oracles: store means, skip == identity layer, resample == another clip."""

import pytest
import torch

from musicinterp import replace, trace_codes
from musicinterp.ablation.ablate import ablate
from musicinterp.ablation.cells import LAYER, Cell, Target
from musicinterp.ablation.inputs import AblationInputError
from musicinterp.ablation.metrics import CrossEntropy
from musicinterp.ablation.modes import skip_setter, store_means
from musicinterp.ablation.sweep import run_cells


def _ce(model, inputs, interventions=()):
    res = trace_codes(model, inputs.codes, cond=inputs.cond, interventions=list(interventions))
    logp = torch.log_softmax(model.logits_to_frames(res.logits, inputs.n_frames), -1)
    return -logp.gather(-1, inputs.codes[..., None]).squeeze(-1).mean(dim=(0, 2))


def test_mean_ablation_uses_store_statistics(tiny, tiny_inputs, tiny_store):
    means = store_means(tiny, tiny_store, "attn_z")
    assert means.shape == (tiny.n_layers, tiny.n_heads, tiny.head_dim)
    torch.testing.assert_close(means.reshape(tiny.n_layers, -1), tiny_store.stats("attn_z").mean.float())
    res = ablate(tiny, tiny_inputs, site="attn_z", mode="mean", over=("layer", "head"), store=tiny_store,
                 progress=False)
    oracle = _ce(tiny, tiny_inputs, [replace("attn_z", 1, means[1, 2], heads=[2])])
    torch.testing.assert_close(res.per_codebook[1, 2], oracle, atol=1e-5, rtol=0)


def test_skip_makes_the_layer_the_identity(tiny, tiny_inputs):
    cell = Cell((0,), (Target(0, LAYER),))
    got = run_cells(tiny, tiny_inputs, [cell], skip_setter(), CrossEntropy(), batched=False)[0]
    # oracle: run the model without layer 0 (nnsight skips it; its input passes through)
    layers = tiny._envoy_layers()
    with tiny.nn.trace(**tiny.forward_inputs(tiny_inputs.codes, tiny_inputs.cond)):
        layers[0].skip(layers[0].input)
        logits = tiny.read_logits().save()
    logp = torch.log_softmax(tiny.logits_to_frames(logits, tiny_inputs.n_frames), -1)
    oracle = -logp.gather(-1, tiny_inputs.codes[..., None]).squeeze(-1).mean(dim=(0, 2))
    torch.testing.assert_close(got, oracle, atol=1e-5, rtol=0)


def test_resample_takes_the_next_clips_activation(tiny, tiny_inputs):
    res = ablate(tiny, tiny_inputs, site="mlp_out", mode="resample", over=("layer",), progress=False)
    other = trace_codes(tiny, tiny_inputs.codes[[1, 0]], cond=type(tiny_inputs.cond)(
        tiny_inputs.cond.input_ids[[1, 0]], tiny_inputs.cond.attention_mask[[1, 0]]), read={"mlp_out": [1]})
    value = other.activations["mlp_out"][:, 0]  # (B, T+K, d)

    def put(x, ctx):
        return value.to(x.dtype)

    from musicinterp import apply_fn
    oracle = _ce(tiny, tiny_inputs, [apply_fn("mlp_out", 1, put, positions="all")])
    torch.testing.assert_close(res.per_codebook[1], oracle, atol=1e-5, rtol=0)


def test_mean_without_statistics_is_refused(tiny, tiny_inputs, tiny_store, tmp_path):
    with pytest.raises(AblationInputError, match="store"):
        ablate(tiny, tiny_inputs, mode="mean", site="attn_z", store=None, progress=False)
    from musicinterp.collect import collect
    from musicinterp.data.concept_set import ConceptSet

    cs = ConceptSet("r", {"x": torch.tensor([0, 1])}, ["a", "b"], ["a", "b"],
                    codes=torch.randint(0, 2048, (2, 4, 8)))
    resid_only = collect(tiny, cs, ["resid"], out=tmp_path / "s", progress=False)
    with pytest.raises(AblationInputError, match="store.*no statistics for site 'attn_z'"):
        ablate(tiny, tiny_inputs, mode="mean", site="attn_z", store=resid_only, progress=False)
