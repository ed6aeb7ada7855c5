"""Keyed sampling: an exact draw from the top-k / temperature distribution, with noise that belongs to the row."""

import pytest
import torch

from musicinterp import generate
from musicinterp.engine.sampling import KeyedSampler, check_row_keys, keyed_processors


def test_keyed_draws_follow_the_top_k_temperature_distribution():
    scores = torch.tensor([[2.0, 1.0, 0.5, -1.0, 3.0]])
    n = 4000
    sampler = KeyedSampler(range(n), temperature=0.7, top_k=3, seed=3)
    picks = sampler(torch.zeros(n, 4, dtype=torch.long), scores.expand(n, -1)).argmax(-1)
    top = torch.tensor([0, 1, 4])
    expected = torch.softmax(scores[0, top] / 0.7, -1)
    freq = torch.bincount(picks, minlength=5).float() / n
    assert freq[[2, 3]].sum() == 0  # outside the top 3: never drawn
    assert torch.allclose(freq[top], expected, atol=0.025)  # 4000 draws: 3 standard errors


def test_the_noise_belongs_to_the_key_and_the_step():
    sampler = KeyedSampler([7, 8, 7], seed=1)
    noise = sampler.noise(5, (2, 3))
    assert torch.equal(noise[0], noise[2]) and not torch.equal(noise[0], noise[1])
    assert not torch.equal(noise, sampler.noise(6, (2, 3)))
    assert torch.equal(KeyedSampler([8], seed=1).noise(5, (2, 3))[0], noise[1])
    assert not torch.equal(KeyedSampler([7], seed=2).noise(5, (2, 3))[0], noise[0])


def test_bad_keys_and_misplaced_sampler_are_refused():
    with pytest.raises(ValueError, match=r"one int per generated row \(3\), got shape \(2,\)"):
        check_row_keys([0, 1], 3)
    with pytest.raises(ValueError, match="integers"):
        check_row_keys(torch.tensor([0.5, 1.0]), 2)
    with pytest.raises(ValueError, match="non-negative"):
        check_row_keys([0, -1], 2)
    with pytest.raises(ValueError, match="temperature"):
        KeyedSampler([0], temperature=0.0)
    with pytest.raises(ValueError, match="after guidance"):  # unguided scores: twice the sequences
        KeyedSampler([0, 1])(torch.zeros(2, 3, dtype=torch.long), torch.zeros(4, 9))
    procs = keyed_processors([0], 1.0, None, 0)
    procs.append("guidance")  # MusicGen's generate appends its guidance here: it must run first
    assert procs[0] == "guidance" and isinstance(procs[-1], KeyedSampler)


def test_a_rows_sample_follows_its_key_not_its_place_in_the_batch(tiny):
    ids = torch.randint(1, 64, (3, 5), generator=torch.Generator().manual_seed(4))
    kw = dict(n_frames=8, seed=0, guidance_scale=3.0, decode_audio=False)
    a = generate(tiny, input_ids=ids, row_keys=[0, 1, 2], **kw).codes
    b = generate(tiny, input_ids=ids.flip(0), row_keys=[2, 1, 0], **kw).codes
    assert torch.equal(a, b.flip(0))
    c = generate(tiny, input_ids=ids[:1].expand(3, -1), row_keys=[9, 9, 10], **kw).codes
    assert torch.equal(c[0], c[1]) and not torch.equal(c[0], c[2])
    greedy = generate(tiny, input_ids=ids, do_sample=False, row_keys=[0, 1, 2], **kw).codes
    assert torch.equal(greedy, generate(tiny, input_ids=ids, do_sample=False, **kw).codes)  # keys only sample
