"""Embedders for FAD and KAD: one ``(n, d)`` float64 row per clip, from codes or audio.

* :class:`EncodecEmbedder`: the model's own EnCodec, the quantizer's continuous latents of
  the codes (no extra weights), mean and std over time. A randomly initialised EnCodec has
  zero codebooks, so on a random model these latents are all zero: shapes only.
* :class:`TokenEmbedder`: the decoder's own input embedding of the codes (the sum of the
  K codebook embeddings), mean and std over time; works for any model, trained or not.
* :class:`MelEmbedder`: log-mel mean and std over time, from audio (codes are rendered by
  the model). The organism has no EnCodec (its codec is a synthesizer), so this is its
  audio-side embedder: it measures spectra, not a learned audio representation.
* :class:`ClapEmbedder`: CLAP audio embeddings over fixed consecutive 10 s windows,
  averaged and L2-normalised.

:func:`model_embedder` picks the model's own: EnCodec latents where it has an EnCodec,
log-mel otherwise.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from .fad import MeasureError

Clips = torch.Tensor | np.ndarray


@runtime_checkable
class Embedder(Protocol):
    """Maps clips (``(B, K, T)`` integer codes or ``(B, samples)`` audio) to ``(B, d)`` float64 embeddings."""

    name: str

    def __call__(self, clips: Clips) -> np.ndarray: ...


def is_codes(clips: Clips) -> bool:
    """Integer ``(B, K, T)`` arrays are codes; anything else is audio."""
    dtype = clips.dtype
    integer = not (dtype.is_floating_point or dtype.is_complex) if isinstance(clips, torch.Tensor) \
        else np.issubdtype(dtype, np.integer)
    return integer and clips.ndim == 3


def _as_codes(clips: Clips, model: Any) -> torch.Tensor:
    if not is_codes(clips):
        if getattr(model, "renderer", None) is not None:
            raise MeasureError(f"model {model.name!r} has no audio encoder; pass (B, K, T) codes, got audio of "
                               f"shape {tuple(clips.shape)}")
        return model.audio_to_codes(clips)
    return model.check_codes(torch.as_tensor(clips), "clips")


def _as_audio(clips: Clips, model: Any | None) -> np.ndarray:
    if is_codes(clips):
        if model is None:
            raise MeasureError(f"clips of shape {tuple(clips.shape)} are codes; give the embedder a model to "
                               "render them, or pass audio")
        return np.asarray(model.codes_to_audio(torch.as_tensor(clips)), dtype=np.float64)
    audio = np.asarray(clips.detach().cpu() if isinstance(clips, torch.Tensor) else clips, dtype=np.float64)
    audio = audio[None] if audio.ndim == 1 else audio
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise MeasureError(f"audio must be (B, samples) with samples > 0, got shape {audio.shape}")
    return audio


def _mean_std(frames: torch.Tensor) -> np.ndarray:
    """``(B, d, T)`` -> ``(B, 2d)``: the mean and (population) std over time."""
    frames = frames.double()
    return torch.cat([frames.mean(-1), frames.std(-1, correction=0)], dim=-1).cpu().numpy()


class EncodecEmbedder:
    """MusicGen's own EnCodec latents: ``quantizer.decode`` of the codes (the sum of the K codebook vectors
    per frame, what EnCodec's decoder reads), mean and std over time -> ``2 * codebook_dim`` numbers."""

    name = "encodec"

    def __init__(self, model: Any) -> None:
        if getattr(model, "renderer", None) is not None:
            raise MeasureError(f"model {model.name!r} renders codes with a synthesizer and has no EnCodec; "
                               "use MelEmbedder(model) or TokenEmbedder(model)")
        self.model = model
        self.quantizer = model.hf.audio_encoder.quantizer

    @torch.no_grad()
    def __call__(self, clips: Clips) -> np.ndarray:
        codes = _as_codes(clips, self.model).to(self.model.device)
        if self.model.audio_channels == 2:  # stereo: codebooks interleaved; both channels' frames pooled
            codes = torch.cat([codes[:, 0::2], codes[:, 1::2]], dim=-1)
        latents = self.quantizer.decode(codes.transpose(0, 1))  # (K, B, T) -> (B, D, T)
        return _mean_std(latents)


class TokenEmbedder:
    """The decoder's input embedding of the codes (summed over codebooks), mean and std over time."""

    name = "tokens"

    def __init__(self, model: Any) -> None:
        self.model = model
        self.tables = model.hf.decoder.model.decoder.embed_tokens

    @torch.no_grad()
    def __call__(self, clips: Clips) -> np.ndarray:
        codes = _as_codes(clips, self.model).to(self.model.device)
        summed = sum(table(codes[:, k]) for k, table in enumerate(self.tables))  # (B, T, d)
        return _mean_std(summed.transpose(1, 2))


class MelEmbedder:
    """Log-mel spectrogram (librosa, power in dB) mean and std over time -> ``2 * n_mels`` numbers.

    Audio is read at ``sample_rate`` (the model's, when a model is given); codes are rendered by ``model``.
    Clips are rendered and transformed ``batch_size`` at a time: the complex spectrogram of a whole set (about
    6 MB a 4 s clip) would grow with it, past a machine's memory at a few thousand clips.
    """

    name = "mel"

    def __init__(self, model: Any | None = None, *, sample_rate: int | None = None, n_mels: int = 32,
                 n_fft: int = 2048, hop_length: int = 640, batch_size: int = 64) -> None:
        rate = sample_rate or getattr(model, "sample_rate", None)
        if rate is None or int(rate) <= 0:
            raise MeasureError(f"MelEmbedder needs a positive sample_rate or a model, got {sample_rate}")
        if not 1 <= n_mels <= 512:
            raise MeasureError(f"n_mels must be in [1, 512], got {n_mels}")
        if batch_size < 1:
            raise MeasureError(f"MelEmbedder batch_size must be at least 1, got {batch_size}")
        self.model, self.sample_rate, self.n_mels = model, int(rate), int(n_mels)
        self.n_fft, self.hop_length, self.batch_size = int(n_fft), int(hop_length), int(batch_size)

    def __call__(self, clips: Clips) -> np.ndarray:
        return np.concatenate([self._embed(clips[i:i + self.batch_size])
                               for i in range(0, max(len(clips), 1), self.batch_size)])

    def _embed(self, clips: Clips) -> np.ndarray:
        import librosa

        audio = _as_audio(clips, self.model)
        spec = librosa.feature.melspectrogram(y=audio, sr=self.sample_rate, n_fft=self.n_fft,
                                              hop_length=self.hop_length, n_mels=self.n_mels)
        db = librosa.power_to_db(spec, ref=1.0, amin=1e-10, top_db=None)  # (B, n_mels, frames)
        return _mean_std(torch.from_numpy(db))


def model_embedder(model: Any) -> Embedder:
    """The model's own embedder: EnCodec latents where it has an EnCodec, else log-mel of its rendered audio."""
    return MelEmbedder(model) if getattr(model, "renderer", None) is not None else EncodecEmbedder(model)


class ClapEmbedder:
    """CLAP audio embeddings: audio resampled to the feature extractor's rate (48 kHz), cut into consecutive
    windows of its length (10 s; a tail under ``min_tail_s`` is dropped unless it is the whole clip, shorter
    windows are repeat-padded), embedded with ``get_audio_features(...).pooler_output``, averaged over a
    clip's windows and L2-normalised. No random crops: a window never exceeds the model's length."""

    name = "clap"

    def __init__(self, clap_model: Any, processor: Any, *, sample_rate: int | None = None, model: Any | None = None,
                 batch_size: int = 8, min_tail_s: float = 1.0) -> None:
        self.clap = clap_model.eval()
        self.extractor = getattr(processor, "feature_extractor", processor)
        self.model = model
        rate = sample_rate or getattr(model, "sample_rate", None) or 32000
        self.sample_rate, self.batch_size = int(rate), max(1, int(batch_size))
        self.target_rate = int(self.extractor.sampling_rate)
        self.window = int(self.extractor.nb_max_samples)
        self.min_tail = int(min_tail_s * self.target_rate)
        self.fusion = bool(getattr(clap_model.config.audio_config, "enable_fusion", False))

    def resample(self, audio: np.ndarray) -> np.ndarray:
        """``(B, samples)`` at :attr:`sample_rate` -> ``(B, samples')`` at the extractor's rate (polyphase)."""
        from scipy.signal import resample_poly

        if self.sample_rate == self.target_rate:
            return audio
        g = math.gcd(self.sample_rate, self.target_rate)
        return resample_poly(audio, self.target_rate // g, self.sample_rate // g, axis=-1)

    def windows(self, clips: Clips) -> list[list[np.ndarray]]:
        """Per clip, its consecutive windows at the extractor's rate (float32)."""
        out = []
        for clip in self.resample(_as_audio(clips, self.model)).astype(np.float32):
            wins = [clip[s:s + self.window] for s in range(0, len(clip), self.window)]
            out.append([w for i, w in enumerate(wins) if i == 0 or len(w) >= self.min_tail])
        return out

    @torch.no_grad()
    def _embed_windows(self, wins: list[np.ndarray]) -> np.ndarray:
        param = next(self.clap.parameters())
        # windows never exceed max_length, so neither mode crops; the mode only picks the fused or unfused mel input
        feats = self.extractor(wins, sampling_rate=self.target_rate, padding="repeatpad",
                               truncation="fusion" if self.fusion else "rand_trunc", return_tensors="pt")
        is_longer = torch.zeros(len(wins), 1, dtype=torch.bool)  # the extractor marks one at random under fusion
        out = self.clap.get_audio_features(input_features=feats["input_features"].to(param.device, param.dtype),
                                           is_longer=is_longer.to(param.device))
        return out.pooler_output.double().cpu().numpy()

    def __call__(self, clips: Clips) -> np.ndarray:
        per_clip = self.windows(clips)
        flat = [w for wins in per_clip for w in wins]
        rows = np.concatenate([self._embed_windows(flat[i:i + self.batch_size])
                               for i in range(0, len(flat), self.batch_size)])
        bounds = np.cumsum([0] + [len(w) for w in per_clip])
        means = np.stack([rows[bounds[i]:bounds[i + 1]].mean(0) for i in range(len(per_clip))])
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
