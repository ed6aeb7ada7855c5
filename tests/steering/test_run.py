import torch

from musicinterp import generate
from musicinterp.steering import (
    steer,
)

from .conftest import fit_all


def test_methods_combine_in_one_generation(tiny_store):
    model, store = tiny_store
    s = fit_all(store)
    res = steer(model, [s["iti"], s["diffmeans"], s["smitin"]], batch=2, n_frames=6, seed=0, decode_audio=False)
    assert set(res.logs) == {"iti:drums", "diffmeans:drums", "smitin:drums"}
    assert res.logs["iti:drums"].steps == list(range(9))
    plain = generate(model, batch=2, n_frames=6, seed=0, decode_audio=False)
    assert not torch.equal(res.codes, plain.codes)
    zero = steer(model, s["iti"], strength=0.0, batch=2, n_frames=6, seed=0, decode_audio=False)
    assert torch.equal(zero.codes, plain.codes)




def test_a_per_prompt_strength_runs_a_sweep_in_one_batch(tiny_store):
    model, store = tiny_store
    iti = fit_all(store)["iti"]
    prompts = torch.randint(0, 2048, (1, 4, 6))
    kw = dict(n_frames=5, do_sample=False, decode_audio=False)
    one_by_one = [steer(model, iti, strength=s, prompt_codes=prompts, **kw).codes[0] for s in (0.0, 50.0, 400.0)]
    batched = steer(model, iti, strength=torch.tensor([0.0, 50.0, 400.0]), prompt_codes=prompts.expand(3, -1, -1),
                    **kw).codes
    for i in range(3):
        assert torch.equal(batched[i], one_by_one[i])  # greedy: identical codes
    assert not torch.equal(one_by_one[0], one_by_one[2])
