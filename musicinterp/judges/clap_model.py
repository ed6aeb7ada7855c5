"""CLAP on transformers' ``ClapModel``: deterministic audio and text embeddings (loading: ``judges/clap.py``).

Audio is resampled explicitly to the extractor's rate (48 kHz for LAION checkpoints)
and cut into consecutive windows of the model's length (10 s); the last window is
padded the way the processor pads ("repeatpad": repeated, then zero-padded). Each
window is embedded whole and the clip's embedding is the L2-normalised mean over
its windows. The processor's own handling of long clips (``rand_trunc``: a random
crop; ``fusion``: random crops, and a random ``is_longer`` flag) would make scores
change between calls, so it never sees more than one window and ``is_longer`` is
always False.

Some checkpoints have a degenerate text projection: ``laion/larger_clap_music``
embeds every caption at cosine ~0.999 to every other, so zero-shot judging with
it is at chance. Such models are refused (by name before loading, and by
measuring the spread of a few captions after) unless ``allow_degenerate_text=True``,
which warns instead. ``laion/clap-htsat-unfused`` and ``laion/larger_clap_general``
are sound.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import gcd
from typing import Any

import numpy as np
import torch
from scipy.signal import resample_poly

from ..errors import MusicInterpError
from ..models.hub import CheckpointFileError, CheckpointNotFoundError, quiet_transformers
from .base import AudioInput, JudgeInputError, as_audio_list, check_sample_rate

DEGENERATE_COSINE = 0.99
PROBE_CAPTIONS = ("a solo piano melody", "loud drums and distorted electric guitar", "a dog barking",
                  "rain falling on a window", "a choir singing in a church", "a man speaking on the phone")
MIN_SECONDS = 0.5
MIN_TAIL_SECONDS = 1.0


class ClapNotFoundError(CheckpointNotFoundError):
    """A CLAP checkpoint is not on this machine; the message lists where it looked and how to get it."""


class ClapFileError(CheckpointFileError):
    """A CLAP folder exists but does not hold a loadable ``ClapModel``."""


class DegenerateTextError(ValueError, MusicInterpError):
    """A CLAP model whose text projection embeds every caption alike (zero-shot judging would be at chance)."""


def repeat_pad(window: np.ndarray, length: int) -> np.ndarray:
    """``window`` repeated whole as often as it fits in ``length``, then zero-padded (the processor's "repeatpad")."""
    if window.shape[0] >= length:
        return window[:length]
    tiled = np.tile(window, length // window.shape[0])
    return np.pad(tiled, (0, length - tiled.shape[0]))


def split_windows(clip: np.ndarray, length: int, min_tail: int) -> np.ndarray:
    """``(n, length)`` consecutive windows; a tail shorter than ``min_tail`` is dropped after a full window."""
    n_full, tail = divmod(clip.shape[0], length)
    windows = [clip[i * length:(i + 1) * length] for i in range(n_full)]
    if tail and (n_full == 0 or tail >= min_tail):
        windows.append(repeat_pad(clip[n_full * length:], length))
    return np.stack(windows)


def _pooled(out: Any) -> torch.Tensor:
    """The normalised projection from ``get_*_features``: an output object in transformers 5.x, a tensor before."""
    return out.pooler_output if hasattr(out, "pooler_output") else out


@dataclass
class ClapHandle:
    """A CLAP model with its feature extractor (and tokenizer, when one is available), ready to embed."""

    model: Any
    feature_extractor: Any
    tokenizer: Any = None
    name: str = "clap"
    batch_size: int = 8
    cache_size: int = 256
    text_spread: float | None = None
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)

    @classmethod
    def from_model(cls, model: Any, feature_extractor: Any = None, tokenizer: Any = None, *, name: str = "clap",
                   allow_degenerate_text: bool = False, check_text: bool = True) -> ClapHandle:
        """Wrap an in-memory ``ClapModel``; the text projection is measured unless ``check_text=False``."""
        if feature_extractor is None:
            feature_extractor = default_feature_extractor(model)
        handle = cls(model.eval(), feature_extractor, tokenizer, name=name)
        if check_text:
            handle.text_spread = check_text_projection(handle, allow_degenerate_text)
        return handle

    @property
    def sample_rate(self) -> int:
        """The rate (Hz) the model was trained at; audio is resampled to it."""
        return int(self.feature_extractor.sampling_rate)

    @property
    def window_samples(self) -> int:
        """Samples in one model window (``nb_max_samples``, 480000 for LAION checkpoints)."""
        fe = self.feature_extractor
        return int(getattr(fe, "nb_max_samples", None) or round(fe.max_length_s * fe.sampling_rate))

    @property
    def window_seconds(self) -> float:
        return self.window_samples / self.sample_rate

    def resample(self, clip: np.ndarray, sample_rate: int) -> np.ndarray:
        """``clip`` at :attr:`sample_rate` (polyphase resampling, exact rational ratio)."""
        rate = check_sample_rate(sample_rate)
        if rate == self.sample_rate:
            return clip.astype(np.float32, copy=False)
        g = gcd(rate, self.sample_rate)
        return resample_poly(clip, self.sample_rate // g, rate // g).astype(np.float32)

    def windows(self, clip: np.ndarray, sample_rate: int) -> np.ndarray:
        """``(n, window_samples)`` model-rate windows of one clip (see :func:`split_windows`)."""
        if clip.shape[0] < MIN_SECONDS * sample_rate:
            raise JudgeInputError(f"CLAP needs clips of at least {MIN_SECONDS} s; got {clip.shape[0]} samples "
                                  f"at {sample_rate} Hz")
        y = self.resample(clip, sample_rate)
        return split_windows(y, self.window_samples, int(MIN_TAIL_SECONDS * self.sample_rate))

    def embed_windows(self, windows: np.ndarray) -> torch.Tensor:
        """``(n, D)`` normalised embeddings of full-length windows, in batches of :attr:`batch_size`."""
        param = next(self.model.parameters())
        out = []
        for start in range(0, windows.shape[0], self.batch_size):
            batch = list(windows[start:start + self.batch_size].astype(np.float64))
            with quiet_transformers():
                feats = self.feature_extractor(batch, sampling_rate=self.sample_rate, return_tensors="pt",
                                               truncation=_truncation(self.feature_extractor), padding="repeatpad")
            mel = feats["input_features"][:, :1].to(param.device, param.dtype)  # the whole-window mel
            is_longer = torch.zeros(mel.shape[0], 1, dtype=torch.bool, device=param.device)
            with torch.inference_mode():
                out.append(_pooled(self.model.get_audio_features(input_features=mel, is_longer=is_longer)).float())
        return torch.cat(out).cpu()

    def embed_audio(self, audio: AudioInput, sample_rate: int) -> np.ndarray:
        """``(B, D)`` unit-norm clip embeddings: the mean of each clip's window embeddings, renormalised."""
        clips, rate = as_audio_list(audio), check_sample_rate(sample_rate)
        return np.stack([self._embed_clip(clip, rate) for clip in clips])

    def _embed_clip(self, clip: np.ndarray, rate: int) -> np.ndarray:
        key = (hashlib.blake2b(clip.tobytes(), digest_size=16).hexdigest(), clip.shape[0], rate)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        emb = torch.nn.functional.normalize(self.embed_windows(self.windows(clip, rate)).mean(0), dim=0).numpy()
        if self.cache_size > 0:
            self._cache[key] = emb
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return emb

    def embed_text(self, texts: Sequence[str] | None = None, *, input_ids: Any = None,
                   attention_mask: Any = None) -> np.ndarray:
        """``(N, D)`` unit-norm text embeddings from strings (needs a tokenizer) or from ``input_ids``."""
        if texts is not None:
            input_ids, attention_mask = self.tokenize(texts)
        if input_ids is None:
            raise JudgeInputError("embed_text needs texts=[...] or input_ids=...")
        param = next(self.model.parameters())
        ids = torch.as_tensor(input_ids, device=param.device).reshape(-1, torch.as_tensor(input_ids).shape[-1])
        mask = None if attention_mask is None else torch.as_tensor(attention_mask, device=param.device)
        with torch.inference_mode():
            emb = _pooled(self.model.get_text_features(input_ids=ids, attention_mask=mask)).float()
        return emb.cpu().numpy()

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` for ``texts``, cut to the text model's positions."""
        if self.tokenizer is None:
            raise JudgeInputError(f"CLAP {self.name!r} has no tokenizer (its folder lacks the RoBERTa vocabulary "
                                  "files): pass input_ids=..., or load a folder that has them")
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise JudgeInputError("texts must be a list of strings")
        limit = int(self.model.config.text_config.max_position_embeddings) - 2
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=limit, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"]


def _truncation(feature_extractor: Any) -> str:
    """The extractor's own mode (it chooses the mel filter bank the checkpoint was trained with)."""
    mode = getattr(feature_extractor, "truncation", "rand_trunc")
    return mode if mode in ("fusion", "rand_trunc") else "rand_trunc"


def default_feature_extractor(model: Any) -> Any:
    """The LAION extractor (48 kHz, 10 s, 64 mels) in the mode matching the model (fused or not)."""
    from transformers import ClapFeatureExtractor

    fused = bool(getattr(model.config.audio_config, "enable_fusion", False))
    return ClapFeatureExtractor(truncation="fusion" if fused else "rand_trunc")


def probe_input_ids(model: Any, n: int = len(PROBE_CAPTIONS), length: int = 6) -> torch.Tensor:
    """``(n, length)`` distinct token sequences (bos, content, eos) for models without a tokenizer."""
    cfg = model.config.text_config
    specials = {i for i in (cfg.bos_token_id, cfg.pad_token_id, cfg.eos_token_id) if i is not None}
    content = [i for i in range(cfg.vocab_size) if i not in specials]
    rng = np.random.default_rng(0)
    rows = [rng.choice(content, size=length - 2, replace=False) for _ in range(n)]
    bos = cfg.bos_token_id if cfg.bos_token_id is not None else content[0]
    eos = cfg.eos_token_id if cfg.eos_token_id is not None else content[-1]
    return torch.tensor([[bos, *row.tolist(), eos] for row in rows])


def caption_spread(handle: ClapHandle) -> float:
    """Mean pairwise cosine of a few unrelated captions (1.0 when the text side embeds them all alike)."""
    if handle.tokenizer is not None:
        emb = handle.embed_text(list(PROBE_CAPTIONS))
    else:
        emb = handle.embed_text(input_ids=probe_input_ids(handle.model))
    norms = np.linalg.norm(emb, axis=1)
    if (norms < 1e-6).any():
        return 1.0
    unit = emb / norms[:, None]
    gram = unit @ unit.T
    n = gram.shape[0]
    return float((gram.sum() - np.trace(gram)) / (n * (n - 1)))


def check_text_projection(handle: ClapHandle, allow_degenerate_text: bool = False) -> float:
    """Measure :func:`caption_spread`; refuse (or, if allowed, warn about) a degenerate text projection."""
    spread = caption_spread(handle)
    if spread > DEGENERATE_COSINE:
        message = (f"CLAP {handle.name!r} has a degenerate text projection: unrelated captions embed at mean "
                   f"cosine {spread:.4f} (> {DEGENERATE_COSINE}), so text-based judges would be at chance")
        if not allow_degenerate_text:
            raise DegenerateTextError(message + "; use laion/clap-htsat-unfused or laion/larger_clap_general, "
                                      "or pass allow_degenerate_text=True to use its audio embeddings only")
        warnings.warn(message, stacklevel=3)
    return spread
