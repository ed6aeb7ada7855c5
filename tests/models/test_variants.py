"""Stereo and melody MusicGen checkpoints are refused up front, naming the variant and what is missing."""

import json

import pytest
import torch
from transformers import (
    MusicgenForConditionalGeneration,
    MusicgenMelodyConfig,
    MusicgenMelodyDecoderConfig,
    MusicgenMelodyForConditionalGeneration,
)

import musicinterp as mi
from musicinterp.models.musicgen import MusicGen
from musicinterp.models.shapes import (
    TINY_SHAPE,
    decoder_config,
    musicgen_config,
    tiny_codec_config,
    tiny_text_config,
)
from musicinterp.models.variants import UnsupportedVariantError, variant_of

from .fake_hub import forbid_network


def stereo_model() -> MusicgenForConditionalGeneration:
    """musicgen-stereo's layout at tiny width: 8 codebooks (left/right interleaved), 2-channel codec."""
    codec = tiny_codec_config()
    codec.audio_channels = 2
    decoder = decoder_config(TINY_SHAPE, n_codebooks=8)
    decoder.audio_channels = 2
    return MusicgenForConditionalGeneration(musicgen_config(tiny_text_config(), codec, decoder)).eval()


def melody_model() -> MusicgenMelodyForConditionalGeneration:
    decoder = MusicgenMelodyDecoderConfig(
        vocab_size=2048, hidden_size=TINY_SHAPE.d_model, num_hidden_layers=TINY_SHAPE.layers,
        num_attention_heads=TINY_SHAPE.heads, ffn_dim=TINY_SHAPE.ffn, num_codebooks=4, pad_token_id=2048,
        bos_token_id=2048, max_position_embeddings=TINY_SHAPE.max_positions)
    config = MusicgenMelodyConfig(text_encoder=tiny_text_config(), audio_encoder=tiny_codec_config(),
                                  decoder=decoder, num_chroma=12)
    return MusicgenMelodyForConditionalGeneration(config).eval()


def test_stereo_checkpoint_is_refused_with_what_is_missing(tmp_path, monkeypatch):
    forbid_network(monkeypatch)
    model = stereo_model()
    assert variant_of(model.config) == "stereo" and model.decoder.num_codebooks == 8
    model.save_pretrained(tmp_path / "stereo")
    with pytest.raises(UnsupportedVariantError, match="stereo") as info:
        mi.load_model(str(tmp_path / "stereo"))
    message = str(info.value)
    assert str(tmp_path / "stereo") in message and "k // 2" in message and "musicgen-small" in message
    with pytest.raises(UnsupportedVariantError, match="MusicGen stereo"):
        MusicGen(model, "wrapped by hand")


def test_stereo_delay_is_not_the_mono_one():
    """Why stereo is refused: transformers delays codebook k by k // 2, not k."""
    model = stereo_model()
    codes = torch.randint(0, 2048, (1, 8, 6))
    start = torch.cat([torch.full((8, 1), 2048), codes.reshape(8, 6)], dim=1)
    _, mask = model.decoder.build_delay_pattern_mask(start, 2048, max_length=11)
    mask = mask.reshape(8, 11)
    for k in range(8):
        shift = k // 2
        assert torch.equal(mask[k, 1 + shift : 7 + shift], codes[0, k])


def test_melody_checkpoint_is_refused_with_what_is_missing(tmp_path, monkeypatch):
    forbid_network(monkeypatch)
    model = melody_model()
    assert variant_of(model.config) == "melody"
    assert not hasattr(model.decoder.model.decoder.layers[0], "encoder_attn")  # no cross_z to offer
    model.save_pretrained(tmp_path / "melody")
    with pytest.raises(UnsupportedVariantError, match="melody") as info:
        mi.load_model(str(tmp_path / "melody"))
    assert "cross_z" in str(info.value) and "prepend" in str(info.value)


def test_other_architectures_are_named(tmp_path):
    folder = tmp_path / "t5"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "t5", "architectures": ["T5Model"]}))
    with pytest.raises(UnsupportedVariantError, match="model_type 't5'") as info:
        mi.load_model(str(folder))
    assert "T5Model" in str(info.value) and "MusicgenForConditionalGeneration" in str(info.value)


def test_mono_models_say_their_variant(tiny):
    assert tiny.variant == "mono" and tiny.describe()["variant"] == "mono"
