"""Audio loading with soundfile: resampling (scipy) and downmixing, with clear errors."""

from __future__ import annotations

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


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling along the last axis."""
    if source_rate == target_rate:
        return samples.astype(np.float32, copy=False)
    g = gcd(int(source_rate), int(target_rate))
    return resample_poly(samples, target_rate // g, source_rate // g, axis=-1).astype(np.float32)


def load_audio(path: str | Path, sample_rate: int, *, offset_s: float = 0.0,
               duration_s: float | None = None) -> LoadedAudio:
    """Read ``path`` (optionally a segment), downmix to mono and resample to ``sample_rate``."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    try:
        info = sf.info(str(path))
        start = int(round(offset_s * info.samplerate))
        frames = -1 if duration_s is None else int(round(duration_s * info.samplerate))
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
