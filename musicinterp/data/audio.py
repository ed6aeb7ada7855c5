"""Audio loading with soundfile: resampling (scipy) and downmixing, with clear errors.

What a file's header asks for is bounded before anything is allocated: the sample
rate (1 kHz to 384 kHz: a 2 KB WAV whose header said 4,000,037 Hz once took 20 s
and 4.7 GB to resample), the channels, one clip's length (ten minutes) and the
estimated memory of decoding and resampling it (1 GB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..errors import MusicInterpError


class AudioError(ValueError, MusicInterpError):
    """An audio file is missing, unreadable, empty or otherwise unusable."""


@dataclass(frozen=True)
class LoadedAudio:
    """Mono float32 samples at ``sample_rate`` and what was done to get them."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int

    @property
    def resampled(self) -> bool:
        return self.source_rate != self.sample_rate

    @property
    def downmixed(self) -> bool:
        return self.source_channels > 1


# Bounds on what an audio file's header may ask for, checked before any sample is read.
MIN_RATE, MAX_RATE = 1_000, 384_000  # Hz: below is not music; above is no recording format in use
MAX_CHANNELS = 64
MAX_SECONDS = 600.0  # one clip: ten minutes is past any MusicGen context (30 s)
MAX_AUDIO_BYTES = 1 << 30  # memory one clip's decode + resample may take (estimated first)


def resample_bytes(n: int, source_rate: int, target_rate: int) -> int:
    """Memory (bytes) :func:`resample` takes for ``n`` samples: float64 input and output, and the
    polyphase filter of ``20 * max(up, down) + 1`` taps (scipy's default window), which a rate with no
    common factor with the target makes huge (4,000,037 Hz -> 32 kHz: 80 M taps)."""
    if source_rate == target_rate:
        return 4 * n
    g = gcd(int(source_rate), int(target_rate))
    up, down = target_rate // g, source_rate // g
    return 8 * (n + n * up // down + 20 * max(up, down) + 1)


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling along the last axis; refuses (:class:`AudioError`) rates outside the bounds."""
    if source_rate == target_rate:
        return samples.astype(np.float32, copy=False)
    for name, rate in (("source", source_rate), ("target", target_rate)):
        if not MIN_RATE <= rate <= MAX_RATE:
            raise AudioError(f"{name} sample rate {rate} Hz is outside {MIN_RATE}..{MAX_RATE} Hz")
    need = resample_bytes(samples.shape[-1] * (samples.size // max(samples.shape[-1], 1)), source_rate, target_rate)
    if need > MAX_AUDIO_BYTES:
        raise AudioError(f"resampling {samples.shape[-1]} samples from {source_rate} Hz to {target_rate} Hz would "
                         f"take about {need / 2**20:.0f} MB, more than {MAX_AUDIO_BYTES / 2**20:.0f} MB")
    g = gcd(int(source_rate), int(target_rate))
    return resample_poly(samples, target_rate // g, source_rate // g, axis=-1).astype(np.float32)


def check_header(path: Path, info, sample_rate: int, offset_s: float, duration_s: float | None, *,
                 max_seconds: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
    """``(start, frames)`` to read, after checking the header's rate, channels and the clip's length and memory
    (at most ``max_seconds`` and ``max_bytes``: :data:`MAX_SECONDS` and :data:`MAX_AUDIO_BYTES` by default)."""
    max_seconds = MAX_SECONDS if max_seconds is None else max_seconds
    max_bytes = MAX_AUDIO_BYTES if max_bytes is None else max_bytes
    rate, channels = int(info.samplerate), int(info.channels)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"audio file {path}: its header says {rate} Hz; sample rates from {MIN_RATE} to "
                         f"{MAX_RATE} Hz are read (anything else is a damaged header or not music)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"audio file {path}: its header says {channels} channels; 1 to {MAX_CHANNELS} are read")
    if not (math.isfinite(offset_s) and offset_s >= 0):
        raise AudioError(f"audio file {path}: offset {offset_s!r} s must be a finite number >= 0")
    if duration_s is not None and not (math.isfinite(duration_s) and 0 < duration_s <= max_seconds):
        raise AudioError(f"audio file {path}: duration {duration_s!r} s must be in (0, {max_seconds:g}] s")
    start = int(round(offset_s * rate))
    available = max(0, int(info.frames) - start)
    frames = available if duration_s is None else min(available, int(round(duration_s * rate)))
    if frames > max_seconds * rate:
        raise AudioError(f"audio file {path}: {frames / rate:.0f} s from offset {offset_s:g} s is longer than "
                         f"{max_seconds:g} s (one clip); give the entry a duration")
    need = 4 * frames * channels + resample_bytes(frames, rate, sample_rate)
    if need > max_bytes:
        raise AudioError(f"audio file {path}: reading {frames} frames of {channels} channels at {rate} Hz and "
                         f"resampling to {sample_rate} Hz would take about {need / 2**20:.0f} MB, more than "
                         f"{max_bytes / 2**20:.0f} MB; give the entry a shorter duration")
    return start, frames


def load_audio(path: str | Path, sample_rate: int, *, offset_s: float = 0.0,
               duration_s: float | None = None) -> LoadedAudio:
    """Read ``path`` (optionally a segment), downmix to mono and resample to ``sample_rate``.

    The header is read first (``soundfile.info``) and checked against the bounds above
    (rate, channels, clip length, memory of the decode and the resample) before any
    sample is read.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
        start, frames = check_header(path, info, sample_rate, offset_s, duration_s)
        data, rate = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise AudioError(f"cannot read audio file {path}: {err}") from err
    if data.shape[0] == 0:
        raise AudioError(f"audio file {path} has no samples" + (f" after offset {offset_s}s" if offset_s else ""))
    if not np.isfinite(data).all():
        raise AudioError(f"audio file {path} contains NaN or inf samples")
    mono = data.mean(axis=1)
    return LoadedAudio(resample(mono, rate, sample_rate), sample_rate, int(rate), int(data.shape[1]))


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float audio as 16-bit PCM WAV (peak-normalised if it would clip)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.asarray(samples, dtype=np.float32)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 1.0:
        x = x / peak
    sf.write(str(path), x, sample_rate, subtype="PCM_16")
    return path
