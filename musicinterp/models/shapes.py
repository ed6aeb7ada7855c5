"""Configurations for random MusicGen models: a tiny one for tests and the real shapes.

The real shapes (small/medium/large) mirror the published checkpoints so cost
measurements mean something without downloading weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import EncodecConfig, MusicgenConfig, MusicgenDecoderConfig, T5Config

from ..errors import InputError


@dataclass(frozen=True)
class DecoderShape:
    """The decoder sizes that distinguish MusicGen variants."""

    layers: int
    heads: int
    d_model: int
    ffn: int
    max_positions: int = 2048


REAL_SHAPES: dict[str, DecoderShape] = {
    "small": DecoderShape(layers=24, heads=16, d_model=1024, ffn=4096),
    "medium": DecoderShape(layers=48, heads=24, d_model=1536, ffn=6144),
    "large": DecoderShape(layers=48, heads=32, d_model=2048, ffn=8192),
}
TINY_SHAPE = DecoderShape(layers=2, heads=4, d_model=64, ffn=128, max_positions=512)


def t5_base_config() -> T5Config:
    """The text encoder every released MusicGen uses (t5-base)."""
    return T5Config(
        vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12,
        relative_attention_num_buckets=32, dropout_rate=0.1, feed_forward_proj="relu",
    )


def encodec_32khz_config() -> EncodecConfig:
    """EnCodec 32 kHz as shipped with MusicGen: 4 codebooks of 2048 at 50 frames/s."""
    return EncodecConfig(
        sampling_rate=32000, audio_channels=1, hidden_size=128, num_filters=64,
        num_residual_layers=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=2048,
        codebook_dim=128, target_bandwidths=[2.2], num_lstm_layers=2, compress=2,
        norm_type="weight_norm", use_causal_conv=False, pad_mode="reflect", normalize=False,
    )


def tiny_codec_config() -> EncodecConfig:
    """A tiny EnCodec with the real frame rate (50 Hz at 32 kHz) and codebook size."""
    return EncodecConfig(
        sampling_rate=32000, audio_channels=1, hidden_size=16, num_filters=4,
        num_residual_layers=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=2048,
        codebook_dim=16, target_bandwidths=[2.2], num_lstm_layers=1, compress=2,
    )


def decoder_config(shape: DecoderShape, n_codebooks: int = 4) -> MusicgenDecoderConfig:
    return MusicgenDecoderConfig(
        vocab_size=2048, hidden_size=shape.d_model, num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads, ffn_dim=shape.ffn, num_codebooks=n_codebooks,
        max_position_embeddings=shape.max_positions, pad_token_id=2048, bos_token_id=2048,
        audio_channels=1, activation_function="gelu", dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0,
    )


def tiny_text_config(vocab_size: int = 64) -> T5Config:
    return T5Config(vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4,
                    dropout_rate=0.0)


def musicgen_config(text: T5Config, codec: EncodecConfig, decoder: MusicgenDecoderConfig) -> MusicgenConfig:
    cfg = MusicgenConfig(text_encoder=text, audio_encoder=codec, decoder=decoder)
    cfg.decoder_start_token_id = 2048
    cfg.pad_token_id = 2048
    return cfg


def random_config(name: str) -> MusicgenConfig:
    """Config for ``tiny`` or one of the real shapes (``small``/``medium``/``large``)."""
    if name == "tiny":
        return musicgen_config(tiny_text_config(), tiny_codec_config(), decoder_config(TINY_SHAPE))
    if name not in REAL_SHAPES:
        raise InputError(f"unknown shape {name!r}; choose tiny, {', '.join(REAL_SHAPES)}")
    return musicgen_config(t5_base_config(), encodec_32khz_config(), decoder_config(REAL_SHAPES[name]))


def scaled_config(name: str, width: int = 16, text_vocab: int = 32128) -> MusicgenConfig:
    """A real shape's config (every layer, head and codebook, the real config fields) with widths divided by ``width``.

    Stands in for a real checkpoint in tests of the loading path: the same
    classes, layer and head counts, codebooks and frame rate, at a cost a CPU
    test can pay. ``text_vocab`` sizes the T5 embedding (t5-base has 32128).
    """
    if name not in REAL_SHAPES:
        raise InputError(f"unknown shape {name!r}; choose {', '.join(REAL_SHAPES)}")
    real = REAL_SHAPES[name]
    if real.d_model % (width * real.heads) or width < 1:
        raise InputError(f"width {width} does not divide {name}'s d_model {real.d_model} into {real.heads} heads")
    shape = DecoderShape(layers=real.layers, heads=real.heads, d_model=real.d_model // width,
                         ffn=real.ffn // width, max_positions=real.max_positions)
    t5 = t5_base_config()
    text = T5Config(vocab_size=text_vocab, d_model=t5.d_model // width, d_kv=max(1, t5.d_kv // width),
                    d_ff=t5.d_ff // width, num_layers=t5.num_layers, num_heads=t5.num_heads,
                    relative_attention_num_buckets=t5.relative_attention_num_buckets, dropout_rate=0.0,
                    feed_forward_proj=t5.feed_forward_proj)
    return musicgen_config(text, tiny_codec_config(), decoder_config(shape))
