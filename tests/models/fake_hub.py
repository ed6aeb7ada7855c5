"""Offline stand-ins for checkpoints as the Hugging Face hub caches them (no network, no weights)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from transformers import EncodecFeatureExtractor, PreTrainedModel

WORDS = ["happy", "sad", "rock", "jazz", "drums", "piano", "music", "with", "a", "slow", "fast", "no", "bass"]


def t5_style_tokenizer() -> Tokenizer:
    """A small SentencePiece-Unigram tokenizer laid out like t5-base's: <pad>=0, </s>=1, <unk>=2, '</s>' appended."""
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("\u2581" + w, -float(i + 1)) for i, w in enumerate(WORDS)]
    pieces += [("\u2581", -20.0)] + [(c, -30.0) for c in "abcdefghijklmnopqrstuvwxyz"]
    tok = Tokenizer(Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", 1)])
    return tok


def write_tokenizer_files(folder: Path) -> None:
    """The tokenizer files a MusicGen checkpoint ships (tokenizer.json, its config, special tokens)."""
    t5_style_tokenizer().save(str(folder / "tokenizer.json"))
    specials = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    config = {"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "model_max_length": 512, **specials}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "special_tokens_map.json").write_text(json.dumps(specials))


def write_processor_files(folder: Path) -> None:
    """The processor file (preprocessor_config.json) MusicGen checkpoints ship: EnCodec's feature extractor."""
    EncodecFeatureExtractor(feature_size=1, sampling_rate=32000, padding_value=0.0).save_pretrained(folder)


def cache_checkpoint(hf_home: Path, repo_id: str, model: PreTrainedModel, revision: str = "0" * 40,
                     tokenizer: bool = True) -> Path:
    """Save ``model`` (and tokenizer, processor) as ``$HF_HOME/hub/models--org--name/snapshots/<rev>/``."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    model.save_pretrained(snapshot)
    if tokenizer:
        write_tokenizer_files(snapshot)
    write_processor_files(snapshot)
    return snapshot


def forbid_network(monkeypatch) -> None:
    """Make every socket connection fail loudly for the rest of the test."""

    def no_network(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
