"""CLAP embeddings on a tiny random ClapModel: windows, resampling, determinism, text, degenerate text, real shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import resample_poly
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from tokenizers.processors import TemplateProcessing
from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, PreTrainedTokenizerFast

from musicinterp.errors import MusicInterpError
from musicinterp.judges import JudgeInputError
from musicinterp.judges.clap_model import (
    PROBE_CAPTIONS,
    ClapHandle,
    DegenerateTextError,
    caption_spread,
    repeat_pad,
    split_windows,
)

SR = 48000
WORDS = sorted({w for c in PROBE_CAPTIONS for w in c.split()}
               | {"music", "with", "drums", "no", "recording", "of", "song", "bass", "piano", "fast", "slow"})


def word_tokenizer() -> PreTrainedTokenizerFast:
    """A RoBERTa-like word-level tokenizer in memory (<s>=0, <pad>=1, </s>=2, as ClapTextConfig expects)."""
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", *WORDS])}
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = Whitespace()
    tok.post_processor = TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>")


def tiny_clap_model(seed: int = 0) -> ClapModel:
    """A ~11k-parameter ClapModel. initializer_factor 5: at the default init a random text tower embeds every
    caption alike (its first token dominates), which the degenerate-text check rightly refuses."""
    torch.manual_seed(seed)
    text = dict(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                max_position_embeddings=40, projection_dim=16, initializer_factor=5.0)
    audio = dict(patch_embeds_hidden_size=8, hidden_size=16, depths=[1, 1], num_attention_heads=[1, 2],
                 projection_dim=16, num_hidden_layers=2)
    return ClapModel(ClapConfig(text_config=text, audio_config=audio, projection_dim=16, initializer_factor=5.0))


def tiny_handle(tokenizer: bool = True, **kw) -> ClapHandle:
    fe = ClapFeatureExtractor(truncation="rand_trunc")
    return ClapHandle.from_model(tiny_clap_model(), fe, word_tokenizer() if tokenizer else None, **kw)


def noise(seconds: float, rate: int = SR, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * rate))).astype(np.float32)


@pytest.fixture(scope="module")
def handle():
    return tiny_handle()


def test_handle_reports_rate_and_window(handle):
    assert handle.sample_rate == 48000 and handle.window_samples == 480000 and handle.window_seconds == 10.0
    assert handle.text_spread < 0.99


def test_long_clip_is_cut_into_fixed_windows_last_one_repeat_padded(handle):
    x = noise(25.0)
    w = handle.windows(x, SR)
    assert w.shape == (3, 480000)
    np.testing.assert_array_equal(w[0], x[:480000])
    np.testing.assert_array_equal(w[1], x[480000:960000])
    tail = x[960000:]
    np.testing.assert_array_equal(w[2], np.tile(tail, 2))  # 5 s repeated twice fills 10 s


def test_short_clip_is_one_window_padded_like_the_processor(handle):
    x = noise(3.0)
    w = handle.windows(x, SR)
    assert w.shape == (1, 480000)
    np.testing.assert_array_equal(w[0, :3 * 144000], np.tile(x, 3))
    assert not w[0, 3 * 144000:].any()
    fe = handle.feature_extractor
    theirs = fe([x], sampling_rate=SR, truncation="rand_trunc", padding="repeatpad", return_tensors="np")
    ours = fe([w[0]], sampling_rate=SR, truncation="rand_trunc", padding="repeatpad", return_tensors="np")
    np.testing.assert_allclose(ours["input_features"], theirs["input_features"], rtol=1e-6)


def test_short_tail_after_full_windows_is_dropped_and_tiny_clips_refused(handle):
    assert split_windows(np.ones(205, np.float32), 100, 10).shape == (2, 100)
    assert split_windows(np.ones(215, np.float32), 100, 10).shape == (3, 100)
    assert split_windows(np.ones(5, np.float32), 100, 10).shape == (1, 100)
    np.testing.assert_array_equal(repeat_pad(np.arange(1, 4.0), 8), [1, 2, 3, 1, 2, 3, 0, 0])
    with pytest.raises(JudgeInputError, match="at least 0.5 s"):
        handle.windows(noise(0.2), SR)


def test_audio_is_resampled_explicitly_to_the_model_rate(handle, monkeypatch):
    x32 = noise(12.0, rate=32000, seed=3)
    manual = resample_poly(x32, 3, 2).astype(np.float32)
    np.testing.assert_array_equal(handle.windows(x32, 32000), handle.windows(manual, SR))
    seen = []
    real = ClapHandle.embed_windows
    monkeypatch.setattr(ClapHandle, "embed_windows", lambda self, w: seen.append(w.copy()) or real(self, w))
    handle._cache.clear()
    a = handle.embed_audio([x32], 32000)
    b = handle.embed_audio([manual], SR)
    assert seen[0].shape == (2, 480000)  # 18 s at 48 kHz: a full window and an 8 s tail
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_embedding_is_the_normalised_mean_of_window_embeddings_and_batching_does_not_matter(handle):
    x = noise(25.0, seed=1)
    handle._cache.clear()
    emb = handle.embed_audio(x, SR)
    per_window = handle.embed_windows(handle.windows(x, SR))
    assert per_window.shape == (3, 16)
    np.testing.assert_allclose(emb[0], torch.nn.functional.normalize(per_window.mean(0), dim=0).numpy(), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-6)
    small = ClapHandle(handle.model, handle.feature_extractor, batch_size=1)
    np.testing.assert_allclose(small.embed_windows(handle.windows(x, SR)), per_window, atol=1e-5)


@pytest.mark.parametrize("truncation", ["rand_trunc", "fusion"])
def test_embeddings_are_deterministic_where_the_processor_is_not(handle, truncation):
    x = noise(25.0, seed=2)
    fe = ClapFeatureExtractor(truncation=truncation)
    h = ClapHandle(handle.model, fe, cache_size=0)
    np.random.seed(0)
    first = h.embed_audio(x, SR)
    np.random.seed(1)
    np.testing.assert_array_equal(h.embed_audio(x, SR), first)
    np.random.seed(0)
    a = fe([x], sampling_rate=SR, return_tensors="np")["input_features"]
    np.random.seed(1)
    b = fe([x], sampling_rate=SR, return_tensors="np")["input_features"]
    assert not np.allclose(a, b)  # the processor crops a long clip at random


def test_repeated_clips_are_embedded_once(handle, monkeypatch):
    x = noise(2.0, seed=4)
    handle._cache.clear()
    first = handle.embed_audio([x, x], SR)
    monkeypatch.setattr(ClapHandle, "embed_windows", lambda self, w: pytest.fail("embedded again"))
    np.testing.assert_array_equal(handle.embed_audio(x, SR), first[:1])


def test_text_from_strings_equals_text_from_ids_and_needs_a_tokenizer(handle):
    texts = ["music with drums", "a solo piano melody"]
    ids, mask = handle.tokenize(texts)
    a = handle.embed_text(texts)
    np.testing.assert_allclose(a, handle.embed_text(input_ids=ids, attention_mask=mask), atol=1e-6)
    assert a.shape == (2, 16) and not np.allclose(a[0], a[1])
    bare = ClapHandle(handle.model, handle.feature_extractor)
    with pytest.raises(JudgeInputError, match="no tokenizer"):
        bare.embed_text(texts)
    assert bare.embed_text(input_ids=ids).shape == (2, 16)


def test_degenerate_text_projection_is_refused_unless_allowed():
    model = tiny_clap_model()
    with torch.no_grad():
        for layer in (model.text_projection.linear1, model.text_projection.linear2):
            layer.weight.zero_()
            layer.bias.fill_(0.1)
    fe, tok = ClapFeatureExtractor(), word_tokenizer()
    with pytest.raises(DegenerateTextError, match="degenerate text projection") as err:
        ClapHandle.from_model(model, fe, tok)
    assert isinstance(err.value, MusicInterpError)
    with pytest.warns(UserWarning, match="degenerate"):
        h = ClapHandle.from_model(model, fe, None, allow_degenerate_text=True)
    assert h.text_spread > 0.99
    with torch.no_grad():
        model.text_projection.linear2.bias.zero_()
    assert caption_spread(ClapHandle(model, fe, tok)) == 1.0  # all-zero embeddings count as degenerate


def test_default_config_has_the_real_shapes_on_the_meta_device():
    with torch.device("meta"):
        model = ClapModel(ClapConfig())
        larger = ClapModel(ClapConfig(audio_config=ClapAudioConfig(patch_embeds_hidden_size=128, hidden_size=1024,
                                                                   depths=[2, 2, 12, 2])))
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(153.5e6, rel=1e-3)
    assert larger.audio_projection.linear1.in_features == 1024
    h = ClapHandle.from_model(model, check_text=False)
    assert (h.sample_rate, h.window_seconds, h.feature_extractor.truncation) == (48000, 10.0, "rand_trunc")


def test_fused_models_embed_whole_windows_deterministically():
    torch.manual_seed(0)
    audio = dict(patch_embeds_hidden_size=8, hidden_size=16, depths=[1, 1], num_attention_heads=[1, 2],
                 projection_dim=16, num_hidden_layers=2, enable_fusion=True, fusion_type="aff_2d")
    model = ClapModel(ClapConfig(text_config=dict(vocab_size=64, hidden_size=16, num_hidden_layers=1,
                                                  num_attention_heads=2, intermediate_size=32,
                                                  max_position_embeddings=40, projection_dim=16),
                                 audio_config=audio, projection_dim=16))
    h = ClapHandle.from_model(model, check_text=False)
    h.cache_size = 0
    assert h.feature_extractor.truncation == "fusion"  # the mode (and mel filters) fused checkpoints ship with
    x = noise(12.0, seed=6)
    np.random.seed(0)
    first = h.embed_audio(x, SR)
    np.random.seed(1)
    np.testing.assert_array_equal(h.embed_audio(x, SR), first)
