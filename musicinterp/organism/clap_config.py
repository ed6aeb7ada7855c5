"""The organism CLAP's shape: a small transformers ``ClapModel``, its feature extractor and its word tokenizer.

Every part is transformers' own (``ClapConfig``, ``ClapFeatureExtractor``, a
``PreTrainedTokenizerFast``), so a checkpoint saved from it loads through the
same :func:`musicinterp.judges.load_clap` call as a LAION CLAP. The extractor
declares 16 kHz: the organism renders at 32 kHz, so every clip is resampled on
the way in, as MusicGen's 32 kHz audio is for a 48 kHz LAION CLAP.

The audio tower is HTSAT at toy size: a 64 x 64 "image" (16 mel bins x 256
time frames of 16 ms, folded four times), 4 x 4 patches, two stages of two Swin blocks.
Training clips are rendered longer than the window (``render_seconds``) and a
window is cropped at a random offset at every step (time-shift augmentation),
so the model hears notes at every phase of its patch grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tokenizers import Tokenizer, processors
from tokenizers.models import WordLevel
from tokenizers.normalizers import Lowercase, Replace
from tokenizers.normalizers import Sequence as NormalizerSequence
from tokenizers.pre_tokenizers import Whitespace
from transformers import ClapConfig, ClapFeatureExtractor, PreTrainedTokenizerFast

from ..errors import InputError

# RoBERTa's special-token layout (ClapTextConfig defaults: bos 0, pad 1, eos 2)
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
NEGATIONS = {"no drums": "no_drums", "no bass": "no_bass"}
# the attribute words (the four planted concepts, then dynamics and mode), then the words of caption templates
ATTRIBUTE_WORDS = ["drums", "no_drums", "fast", "slow", "bright", "dark", "bass", "no_bass", "loud", "quiet",
                   "major", "minor"]
FILLER_WORDS = ["music", "with", "a", "tune", "and", "recording", "of", "song", "in", "no", ",", "clip", "the"]
MAX_TEXT_TOKENS = 24


@dataclass
class OrganismClapConfig:
    """Architecture, audio front end and training settings of the organism CLAP (saved beside its weights)."""

    sample_rate: int = 16000  # the rate the model declares; the organism renders at 32 kHz
    clip_seconds: float = 4.0
    n_mels: int = 16  # 16 bins x 256 frames of 16 ms fill the 64 x 64 image: a patch spans 64 ms, so fast notes
    hop_length: int = 256  # (160 ms) are 2.5 patches apart; 32 bins at 32 ms put them a patch and a quarter apart
    fft_size: int = 1024
    f_min: float = 30.0
    f_max: float = 8000.0
    spec_size: int = 64
    render_seconds: float = 6.0  # training clips' length; each step crops a clip_seconds window from them
    patch_hidden: int = 48
    depths: tuple[int, ...] = (2, 2)
    audio_heads: tuple[int, ...] = (2, 4)
    text_hidden: int = 64
    text_layers: int = 2
    text_heads: int = 2
    projection_dim: int = 64
    n_train_clips: int = 4096
    steps: int = 4500
    batch_size: int = 64
    lr: float = 2e-3
    warmup: int = 20
    weight_decay: float = 0.01
    p_mention: float = 0.5  # each attribute named with this probability (caption dropout)
    p_single: float = 0.3  # captions naming a single attribute (as the zero-shot prompts do)
    p_perturb: float = 0.5  # share of training clips with voices rewritten, labelled by the detectors
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_perturb <= 1.0:
            raise InputError(f"OrganismClapConfig.p_perturb must be in [0, 1], got {self.p_perturb}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> OrganismClapConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.setdefault("p_perturb", 0.0)  # written before rewritten clips existed: trained on world clips only
        for k in ("depths", "audio_heads"):
            if k in known:
                known[k] = tuple(known[k])
        return cls(**known)

    @property
    def window_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))


def build_clap_tokenizer() -> PreTrainedTokenizerFast:
    """Word-level tokenizer over the organism's caption words, wrapping each text as ``<s> ... </s>``."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS + ATTRIBUTE_WORDS + FILLER_WORDS)}
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = NormalizerSequence([Lowercase()] + [Replace(a, b) for a, b in NEGATIONS.items()])
    tok.pre_tokenizer = Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", model_max_length=MAX_TEXT_TOKENS)


def clap_model_config(cfg: OrganismClapConfig, vocab_size: int) -> ClapConfig:
    """transformers' ``ClapConfig`` for ``cfg`` (HTSAT audio tower, RoBERTa text tower)."""
    audio = {"spec_size": cfg.spec_size, "num_mel_bins": cfg.n_mels, "patch_embeds_hidden_size": cfg.patch_hidden,
             "hidden_size": cfg.patch_hidden * 2 ** (len(cfg.depths) - 1), "depths": list(cfg.depths),
             "num_attention_heads": list(cfg.audio_heads), "window_size": 8, "patch_stride": 4, "patch_size": 4,
             "projection_dim": cfg.projection_dim, "drop_path_rate": 0.0, "enable_fusion": False}
    text = {"vocab_size": vocab_size, "hidden_size": cfg.text_hidden, "num_hidden_layers": cfg.text_layers,
            "num_attention_heads": cfg.text_heads, "intermediate_size": 2 * cfg.text_hidden,
            "max_position_embeddings": MAX_TEXT_TOKENS + 2, "projection_dim": cfg.projection_dim,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    return ClapConfig(text_config=text, audio_config=audio, projection_dim=cfg.projection_dim)


def clap_feature_extractor(cfg: OrganismClapConfig) -> ClapFeatureExtractor:
    """transformers' ``ClapFeatureExtractor`` at the model's rate, window and mel layout."""
    return ClapFeatureExtractor(feature_size=cfg.n_mels, sampling_rate=cfg.sample_rate, hop_length=cfg.hop_length,
                                max_length_s=int(cfg.clip_seconds), fft_window_size=cfg.fft_size,
                                frequency_min=cfg.f_min, frequency_max=cfg.f_max, truncation="rand_trunc",
                                padding="repeatpad")
