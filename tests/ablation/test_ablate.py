"""``ablate`` and ``ablate_sets`` against traces edited by hand: set cells, the clean and fully ablated references,
window cells, resampling a clip's own activations, and arguments refused by name."""

import pytest
import torch

from musicinterp.ablation.ablate import ablate, ablate_sets
from musicinterp.ablation.inputs import AblationInputError, teacher_forced
from musicinterp.engine import replace, trace_codes


def _ce(model, inputs, interventions=()):
    res = trace_codes(model, inputs.codes, cond=inputs.cond, interventions=list(interventions))
    logp = torch.log_softmax(model.logits_to_frames(res.logits, inputs.n_frames), -1)
    return -logp.gather(-1, inputs.codes[..., None]).squeeze(-1).mean(dim=(0, 2))


def test_sets_ablate_together(tiny, tiny_inputs):
    res = ablate_sets(tiny, tiny_inputs, [[(0, 1), (1, 3)], [(1, 0)]], site="attn_z", mode="zero")
    oracle = _ce(tiny, tiny_inputs, [replace("attn_z", 0, torch.zeros(16), heads=[1]),
                                     replace("attn_z", 1, torch.zeros(16), heads=[3])])
    torch.testing.assert_close(res.per_codebook[0], oracle, atol=1e-5, rtol=0)
    assert res.labels["set"] == ["L0H1 L1H3", "L1H0"]


def test_fully_ablated_reference_and_clean(tiny, tiny_inputs):
    res = ablate(tiny, tiny_inputs, mode="zero", site="attn_z", over=("layer",), progress=False)
    assert res.clean == pytest.approx(float(_ce(tiny, tiny_inputs).mean()), abs=1e-5)
    both = [replace("attn_z", i, torch.zeros(1)) for i in range(tiny.n_layers)]
    assert res.corrupt == pytest.approx(float(_ce(tiny, tiny_inputs, both).mean()), abs=1e-5)


def test_bad_arguments_name_themselves(tiny, tiny_inputs):
    with pytest.raises(AblationInputError, match="sets: head index 9"):
        ablate_sets(tiny, tiny_inputs, [[(0, 9)]], mode="zero")
    with pytest.raises(AblationInputError, match="over: a 'head' axis"):
        ablate(tiny, tiny_inputs, mode="zero", site="resid", over=("layer", "head"), progress=False)
    with pytest.raises(AblationInputError, match="site: mode='skip'"):
        ablate(tiny, tiny_inputs, mode="skip", site="attn_z", progress=False)
    with pytest.raises(AblationInputError, match="mode must be"):
        ablate(tiny, tiny_inputs, mode="gaussian", progress=False)
    one = teacher_forced(tiny, tiny_inputs.codes[:1], input_ids=tiny_inputs.cond.input_ids[:1])
    with pytest.raises(AblationInputError, match="data: mode='resample'"):
        ablate(tiny, one, mode="resample", site="attn_z", progress=False)


def test_window_cell_ablates_both_layers(tiny, tiny_inputs):
    res = ablate(tiny, tiny_inputs, mode="zero", site="mlp_out", window=2, progress=False)
    assert res.axes == ("window",) and res.labels == {"window": ["0-1"]} and res.shape == (1,)
    oracle = _ce(tiny, tiny_inputs, [replace("mlp_out", i, torch.zeros(64)) for i in (0, 1)])
    torch.testing.assert_close(res.per_codebook[0], oracle, atol=1e-5, rtol=0)
    assert res.info == {"rows": "both", "branch": "cond", "clips": 2}
    assert res.kind == "ablation" and res.method == "zero" and res.metric == "ce"


def test_resampling_from_the_clips_themselves_changes_nothing(tiny, tiny_inputs):
    res = ablate(tiny, tiny_inputs, mode="resample", site="resid", resample_from=tiny_inputs.codes,
                 over=("layer",), progress=False)
    clean = _ce(tiny, tiny_inputs)
    for layer in range(tiny.n_layers):
        torch.testing.assert_close(res.per_codebook[layer], clean, atol=1e-5, rtol=0)
    assert res.clean == pytest.approx(float(clean.mean()), abs=1e-5)
    with pytest.raises(AblationInputError, match=r"resample_from: codes of shape \(1, 4, 10\) do not match"):
        ablate(tiny, tiny_inputs, mode="resample", site="resid", resample_from=tiny_inputs.codes[:1],
               progress=False)
    with pytest.raises(AblationInputError, match="site: site='layer' is only for mode='skip'"):
        ablate(tiny, tiny_inputs, mode="zero", site="layer", progress=False)
