"""generate()'s grouped settings: loose keywords land in their group, unknown ones are refused."""

import dataclasses

import pytest
import torch

from musicinterp.engine.settings import PromptInput, Sampling, split_settings
from musicinterp.errors import InputTypeError, MusicInterpError


def test_loose_keywords_land_in_their_group():
    prompt, sampling = split_settings(None, None, {"text": "drums", "seed": 3, "top_k": 5, "batch": 2})
    assert prompt == PromptInput(text="drums", batch=2)
    assert sampling == Sampling(seed=3, top_k=5)


def test_a_loose_keyword_overrides_the_same_field_of_a_group():
    group = Sampling(temperature=0.5, seed=1, do_sample=False)
    prompt, sampling = split_settings(PromptInput(text=["a", "b"]), group, {"seed": 9})
    assert sampling == Sampling(temperature=0.5, seed=9, do_sample=False)
    assert group.seed == 1  # the group passed in is left as it was
    assert prompt.texts == ["a", "b"]
    prompt, _ = split_settings(PromptInput(text="a"), None, {"text": "b"})
    assert prompt.text == "b"


def test_unknown_keywords_are_refused():
    with pytest.raises(InputTypeError, match="generate\\(\\) got an unexpected keyword argument 'temprature'"):
        split_settings(None, None, {"seed": 0, "temprature": 0.9})
    with pytest.raises(TypeError):  # still a TypeError, as Python's own would be
        split_settings(PromptInput(), Sampling(), {"n_steps": 4})
    assert issubclass(InputTypeError, MusicInterpError)


def test_the_generate_call_refuses_an_unknown_keyword(tiny):
    from musicinterp.engine import generate

    with pytest.raises(InputTypeError, match="'guidance'"):
        generate(tiny, n_frames=2, guidance=3.0)


def test_prompt_texts_and_batch():
    assert PromptInput(text="a").texts == ["a"] and PromptInput(text=("a", "b")).texts == ["a", "b"]
    assert PromptInput().texts is None
    assert PromptInput().inferred_batch() == 1
    assert PromptInput(prompt_codes=torch.zeros(3, 4, 5, dtype=torch.long)).inferred_batch() == 3
    assert PromptInput(batch=5, prompt_codes=torch.zeros(3, 4, 5)).inferred_batch() == 5
    assert PromptInput(text="a").inferred_batch() is None  # the text fixes it


def test_sampling_defaults_guidance_and_keys():
    defaults = {"guidance_scale": 3.0, "temperature": 1.0, "top_k": 250}
    assert Sampling(top_k=10).resolved(defaults) == Sampling(guidance_scale=3.0, temperature=1.0, top_k=10)
    assert Sampling().guided is False and Sampling(guidance_scale=1.0).guided is False
    assert Sampling(guidance_scale=3.0).guided is True
    assert Sampling(row_keys=[0, 1]).keyed and not Sampling(row_keys=[0, 1], do_sample=False).keyed
    assert not Sampling().keyed
    with pytest.raises(dataclasses.FrozenInstanceError):
        Sampling().seed = 1
