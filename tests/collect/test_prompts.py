import pytest
import torch

from musicinterp import apply_fn
from musicinterp.collect import chunk_seed, collect_prompts
from musicinterp.data.concept_set import ConceptSet
from musicinterp.engine.generation import generate
from musicinterp.organism.prompts import build_tokenizer

PROMPTS = ConceptSet("p", {"tempo": torch.tensor([1, 1, 0, 0])}, ["p0", "p1", "n0", "n1"], ["p0", "p1", "n0", "n1"],
                     prompts=["fast", "fast drums", "slow", "slow bass"])


@pytest.fixture
def talking(tiny):
    tiny.tokenizer = build_tokenizer()
    yield tiny
    tiny.tokenizer = None


def test_prompt_sets_collect_through_generation(talking, tmp_path):
    store = collect_prompts(talking, PROMPTS, ["resid"], out=tmp_path / "p", n_steps=6, branch="both",
                            batch_size=4, progress=False)
    seen = []  # the stored rows are what a generation with these prompts and the chunk's seed computes
    generate(talking, text=PROMPTS.prompts, max_new_tokens=6, seed=chunk_seed(PROMPTS.ids, 0), decode_audio=False,
             interventions=[apply_fn("resid", 1, lambda x, ctx: seen.append(x[:, -1].clone()))])
    clips = store.clips.to_pylist()
    assert [c["clip_id"] for c in clips][:5] == ["p0#cond", "p1#cond", "n0#cond", "n1#cond", "p0#uncond"]
    assert store.meta["n_rows"] == 8 * 6
    frames = store.read_frames("resid", 1).reshape(8, 6, -1)
    expected = torch.stack(seen, dim=1)  # (rows, steps, d): cond rows then uncond rows
    assert torch.allclose(frames, expected)
    pv = store.probe_view("resid", "mean")
    assert torch.allclose(pv.x[:, 1], frames.mean(1), atol=1e-6)
    assert torch.allclose(store.probe_view("resid", "last").x[:, 1], frames[:, -1])
    assert store.index.column("branch").to_pylist()[::6] == ["cond"] * 4 + ["uncond"] * 4


def test_prompt_chunks_do_not_depend_on_the_chunk_layout_before_them(talking, tmp_path):
    a = collect_prompts(talking, PROMPTS, ["resid"], out=tmp_path / "a", n_steps=4, batch_size=2, frames="pooled",
                        progress=False)
    again = collect_prompts(talking, PROMPTS, ["resid"], out=tmp_path / "a", n_steps=4, batch_size=2,
                            frames="pooled", progress=False)
    assert again.meta["files"] == a.meta["files"]  # the same request reuses the store
    assert a.meta["stats_rows"] == "pooled_mean" and a.meta["n_rows"] == 0
    with pytest.raises(ValueError, match="frames='all' .* or 'pooled', got 'valid'"):
        collect_prompts(talking, PROMPTS, ["resid"], out=tmp_path / "b", frames="valid")
    with pytest.raises(ValueError, match="branch must be"):
        collect_prompts(talking, PROMPTS, ["resid"], out=tmp_path / "b", branch="left")
