"""The path a user with real weights takes: the Hugging Face cache, the checkpoint's own tokenizer, no network."""

import huggingface_hub.constants
import pytest
import torch
from transformers import MusicgenForConditionalGeneration

import musicinterp as mi
from musicinterp.models.hub import CheckpointFileError, hub_cache, places_looked
from musicinterp.models.musicgen import MusicGen
from musicinterp.models.shapes import REAL_SHAPES, scaled_config

from .fake_hub import cache_checkpoint, forbid_network

REPO = "facebook/musicgen-small"
PROMPTS = ["happy rock", "happy jazz with piano", "sad rock", "sad slow piano"]


@pytest.fixture(scope="module")
def small_like():
    """musicgen-small's classes, layers, heads and codebooks, 16x narrower, random weights."""
    torch.manual_seed(0)
    return MusicgenForConditionalGeneration(scaled_config("small", width=16)).eval()


@pytest.fixture
def hf_home(tmp_path, monkeypatch, small_like):
    home = tmp_path / "hf"
    cache_checkpoint(home, REPO, small_like)
    forbid_network(monkeypatch)
    monkeypatch.setenv("HF_HOME", str(home))  # set after import, as a notebook would
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


def test_cache_path_end_to_end_without_network(hf_home, small_like, tmp_path):
    model = mi.load_model(REPO)
    assert model.source == "checkpoint" and model.variant == "mono"
    shape = REAL_SHAPES["small"]
    assert (model.n_layers, model.n_heads, model.n_codebooks) == (shape.layers, shape.heads, 4)
    assert model.fingerprint == MusicGen(small_like, "saved").fingerprint
    assert type(model.tokenizer).__name__ == "T5Tokenizer"
    ids, mask = model.tokenize(["happy rock"])
    assert ids.tolist() == [[3, 5, 1]] and mask.tolist() == [[1, 1, 1]]  # the checkpoint's vocab, </s> appended

    plain = mi.generate(model, text=PROMPTS[:2], n_frames=3, seed=0, record_logits=True)
    assert plain.codes.shape == (2, 4, 3) and plain.audio.shape == (2, 3 * 32000 // 50)
    other = mi.generate(model, text=PROMPTS[2:], n_frames=3, seed=0, record_logits=True)
    assert not torch.allclose(plain.logits[0], other.logits[0])  # the text conditions the decoder

    cs = mi.ConceptSet("mood", {"happy": torch.tensor([1, 1, 0, 0])}, ["h0", "h1", "s0", "s1"],
                       ["h0", "h1", "s0", "s1"], prompts=PROMPTS)
    store = mi.collect_prompts(model, cs, ["resid"], out=tmp_path / "store", n_steps=3, batch_size=4,
                               progress=False)
    assert store.meta["n_rows"] == 4 * 3
    steerer = mi.DiffMeansSteerer.fit(store, "happy", mi.DiffMeansConfig(strength=1.0, layers=[model.n_layers - 1]))
    assert steerer.model_id == REPO
    with steerer.apply(model):
        steered = mi.generate(model, text=PROMPTS[:2], n_frames=3, seed=0, record_logits=True)
    assert list(steered.logs) == ["diffmeans:happy"]
    assert not torch.allclose(steered.logits[0], plain.logits[0])
    again = mi.generate(model, text=PROMPTS[:2], n_frames=3, seed=0, record_logits=True)
    assert torch.allclose(again.logits, plain.logits)  # leaving the block removes the edit


def test_cache_is_read_from_the_environment_at_call_time(hf_home, monkeypatch, tmp_path):
    assert hub_cache() == (hf_home / "hub", "HF_HOME")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    with pytest.raises(mi.CheckpointNotFoundError) as info:
        mi.load_model(REPO)
    message = str(info.value)
    assert "hf download facebook/musicgen-small" in message and "HF_HUB_CACHE" in message
    assert "HF_HUB_OFFLINE=1" in message and str(tmp_path / "elsewhere") in message
    assert len(places_looked(REPO)) == 3


def test_missing_tokenizer_is_named_when_text_is_given(tmp_path, monkeypatch, small_like):
    forbid_network(monkeypatch)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # a user's default: online mode
    snapshot = cache_checkpoint(tmp_path / "hf", REPO, small_like, tokenizer=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    model = mi.load_model(REPO)
    with pytest.raises(ValueError, match="no tokenizer files") as info:
        mi.generate(model, text=["happy"], n_frames=1)
    assert str(snapshot) in str(info.value) and "input_ids" in str(info.value)
    assert mi.generate(model, input_ids=torch.tensor([[3, 1]]), n_frames=1, decode_audio=False).codes.shape == (1, 4, 1)


def test_missing_or_damaged_weights_name_the_file(tmp_path, small_like):
    folder = tmp_path / "ckpt"
    small_like.save_pretrained(folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointFileError, match="model.safetensors") as info:
        mi.load_model(str(folder))
    assert "damaged" in str(info.value)
    weights.unlink()
    with pytest.raises(CheckpointFileError, match="model.safetensors is missing"):
        mi.load_model(str(folder))
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointFileError, match="config.json is missing"):
        mi.load_model(str(folder))
