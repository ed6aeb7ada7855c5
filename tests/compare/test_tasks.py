"""Comparison tasks: user-defined text and continuation tasks, the organism preset, tiling for batched sweeps."""

import pytest
import torch

from musicinterp.compare.tasks import Task, continuation_task, task_batch, text_task, tile
from musicinterp.organism import detect_all
from musicinterp.organism.tasks import organism_tasks


def test_text_task_repeats_one_prompt_or_takes_a_list():
    t = text_task("t", "drums", n_frames=50, n=4, seed=7)
    assert t.kwargs["text"] == ["drums"] * 4 and t.n == 4 and t.seed == 7 and not t.is_continuation
    assert text_task("u", ["a", "b"], n_frames=10).n == 2
    with pytest.raises(ValueError, match="n=3 but 2 prompts"):
        text_task("x", ["a", "b"], n_frames=10, n=3)
    with pytest.raises(ValueError, match="n_frames must be a positive int"):
        text_task("x", "a", n_frames=0)
    with pytest.raises(ValueError, match="prompts must be"):
        text_task("x", [], n_frames=5)


def test_continuation_task_keeps_the_prompt_and_its_length():
    prompt = torch.zeros(3, 4, 20, dtype=torch.long)
    t = continuation_task("c", prompt, n_frames=10, do_sample=False)
    assert t.prompt_frames == 20 and t.n == 3 and t.is_continuation and t.kwargs["do_sample"] is False
    assert t.kwargs["batch"] == 3
    with_text = continuation_task("c", prompt, n_frames=10, text=["a", "b", "c"])
    assert with_text.kwargs["text"] == ["a", "b", "c"] and "batch" not in with_text.kwargs
    with pytest.raises(ValueError, match=r"prompt_codes must be \(B, K, T\)"):
        continuation_task("c", prompt[0], n_frames=10)
    with pytest.raises(ValueError, match="text has 1 prompts for 3"):
        continuation_task("c", prompt, n_frames=10, text=["a"])


def test_organism_preset_prompts_lack_the_target():
    cont, text, opposite = organism_tasks("bass", n=6, prompt_frames=100, new_frames=50, seed=2)
    assert detect_all(cont.kwargs["prompt_codes"])["bass"].tolist() == [0] * 6
    assert cont.prompt_frames == 100 and text.n == 6 and opposite.kwargs["text"] == ["no bass"] * 6
    assert all("bass" not in p for p in text.kwargs["text"])
    removing = organism_tasks("bass", n=4, prompt_frames=100, add=False)[0]
    assert detect_all(removing.kwargs["prompt_codes"])["bass"].tolist() == [1] * 4


def test_tile_repeats_every_prompt():
    kw = {"prompt_codes": torch.arange(2).reshape(2, 1, 1), "batch": 2, "text": ["a", "b"], "n_frames": 5}
    tiled = tile(kw, 3)
    assert tiled["prompt_codes"].flatten().tolist() == [0, 1] * 3
    assert tiled["text"] == ["a", "b"] * 3 and tiled["batch"] == 6 and tiled["n_frames"] == 5
    assert task_batch(tiled) == 6 and task_batch({"batch": 4}) == 4 and task_batch({}) == 1
    assert Task("x", {"text": ["a"]}).n == 1


def test_layer_variants_follow_the_tada_protocol(tiny_store_for_compare):
    from musicinterp.compare.run import _sweep
    from musicinterp.compare.tasks import layer_variants
    from musicinterp.engine.generation import generate
    from musicinterp.steering import DiffMeansSteerer, ITIConfig, ITISteerer, steer

    model, store = tiny_store_for_compare
    dm = DiffMeansSteerer.fit(store, "drums")
    n = model.n_layers
    variants = layer_variants("diffmeans", dm, [n - 1], n)
    assert {k: v.spec.layers for k, v in variants.items()} == {
        "diffmeans@all": tuple(range(n)), "diffmeans@best": (n - 1,), "diffmeans@rest": tuple(range(n - 1))}
    assert all(v.spec.rows == dm.spec.rows for v in variants.values())
    assert _sweep({"diffmeans": [1.0]}, "diffmeans@best") == [1.0]
    kw = dict(batch=1, n_frames=4, seed=0, do_sample=False, decode_audio=False)
    base = generate(model, **kw).codes
    moved = {k: steer(model, v, strength=50.0, **kw).codes for k, v in variants.items()}
    assert not torch.equal(moved["diffmeans@best"], base)  # the last layer alone moves the logits
    assert not torch.equal(moved["diffmeans@best"], moved["diffmeans@all"])
    with pytest.raises(ValueError, match="some but not all"):
        layer_variants("diffmeans", dm, list(range(n)), n)
    with pytest.raises(ValueError, match="residual methods"):
        layer_variants("iti", ITISteerer.fit(store, "drums", ITIConfig(k=2)), [0], n)
