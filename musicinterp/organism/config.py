"""Architecture and training configuration of the organism."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from transformers import MusicgenConfig

from ..models.shapes import DecoderShape, decoder_config, musicgen_config, tiny_codec_config
from . import vocab as V


@dataclass
class OrganismConfig:
    """Everything that defines a trained organism; saved next to its weights."""

    layers: int = 4
    heads: int = 8
    d_model: int = 128
    ffn: int = 512
    text_d_model: int = 64
    text_layers: int = 2
    text_heads: int = 4
    max_positions: int = 512
    clip_frames: int = 400  # longest clip: a 4 s prompt continued for 4 s stays within trained positions
    # each step draws one (frames, clips) pair: equal tokens per step; 4 s batches carry more prompts
    length_batches: tuple[tuple[int, int], ...] = ((200, 32), (400, 16))
    steps: int = 2000
    batch_size: int = 16
    lr: float = 3e-3
    warmup: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    p_mention: float = 0.5
    p_empty: float = 0.15
    # sampling defaults: top-k 20 of 256 codes at T 0.8 keeps the world grammar (validity >= 95%)
    generation: dict = field(default_factory=lambda: {"guidance_scale": 3.0, "top_k": 20, "temperature": 0.8})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> OrganismConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "length_batches" in known:
            known["length_batches"] = tuple(tuple(x) for x in known["length_batches"])
        return cls(**known)

    def musicgen_config(self, text_vocab: int) -> MusicgenConfig:
        from transformers import T5Config

        text = T5Config(vocab_size=text_vocab, d_model=self.text_d_model, d_kv=self.text_d_model // self.text_heads,
                        d_ff=2 * self.text_d_model, num_layers=self.text_layers, num_heads=self.text_heads,
                        dropout_rate=0.0, pad_token_id=0)
        codec = tiny_codec_config()
        codec.codebook_size = V.CODEBOOK_SIZE
        dec = decoder_config(DecoderShape(self.layers, self.heads, self.d_model, self.ffn, self.max_positions),
                             n_codebooks=V.N_CODEBOOKS)
        dec.vocab_size = V.CODEBOOK_SIZE
        dec.pad_token_id = dec.bos_token_id = V.CODEBOOK_SIZE
        cfg = musicgen_config(text, codec, dec)
        cfg.decoder_start_token_id = cfg.pad_token_id = V.CODEBOOK_SIZE
        return cfg
