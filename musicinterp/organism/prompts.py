"""The organism's text side: a word vocabulary, its tokenizer, and training prompts."""

from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.normalizers import Lowercase, Replace
from tokenizers.normalizers import Sequence as NormalizerSequence
from tokenizers.pre_tokenizers import Whitespace
from transformers import PreTrainedTokenizerFast

from .world import CONCEPT_WORDS, CONCEPTS, Latents

SPECIALS = ["[PAD]", "[UNK]"]
# negated concepts are single tokens: "no drums" is normalised to "no_drums", so the
# model learns each pole as one word (as it does "fast" and "slow")
NEGATIONS = {"no drums": "no_drums", "no bass": "no_bass"}
WORDS = ["drums", "no_drums", "fast", "slow", "bright", "dark", "bass", "no_bass", "no", "with", "and", "music", "a",
         "tune"]


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Word-level tokenizer over the organism's vocabulary; id 0 is padding (as T5 expects)."""
    vocab = {tok: i for i, tok in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = NormalizerSequence([Lowercase()] + [Replace(a, b) for a, b in NEGATIONS.items()])
    tok.pre_tokenizer = Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]")


def phrase(concept: str, value: int) -> str:
    """The words for one pole of a concept (value 1 = positive pole)."""
    pos, neg = CONCEPT_WORDS[concept]
    return pos if value else neg


def training_prompt(latents: Latents, rng: np.random.Generator, p_mention: float = 0.5,
                    p_empty: float = 0.15) -> str:
    """A prompt mentioning a random subset of the clip's concepts; sometimes empty."""
    if rng.random() < p_empty:
        return ""
    parts = [phrase(c, getattr(latents, c)) for c in CONCEPTS if rng.random() < p_mention]
    rng.shuffle(parts)
    if parts and rng.random() < 0.3:
        parts = [rng.choice(["music with", "a tune with", "music"])] + parts
    return " ".join(parts)
