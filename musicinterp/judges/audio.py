"""Audio-feature judges (librosa) that work on any decoded mono audio at any sample rate.

Each judge resamples to its analysis rate (16 kHz unless said) and computes one number per clip:

* :class:`TempoJudge` (``tempo``): note changes per second. Onsets
  (``librosa.onset``) of the chroma of the tonal peaks, so that drum hits
  (broadband noise) do not count as notes.
* :class:`BrightnessJudge` (``timbre``): octaves from the dominant partial up
  to the spectral centroid (``librosa.feature.spectral_centroid``) of the tonal
  peaks, energy-weighted over frames: brightness independent of pitch.
* :class:`PercussionJudge` (``drums``, at 32 kHz to keep cymbal energy): the
  percussive share of the energy after harmonic-percussive separation
  (``librosa.decompose.hpss``).
* :class:`LowEndJudge` (``bass``): sustained (harmonic) energy in 58-160 Hz as
  a share of all energy above 58 Hz, from a long STFT; the lower edge leaves
  out kick-drum tails.

"Tonal peaks": the magnitude STFT minus a multiple of each frame's median over
frequency (the noise floor), clipped at zero. Plain centroid, onset rate and
low-band share are swamped by drums on the organism.

Default thresholds were calibrated on rendered organism clips (see
:data:`ORGANISM_THRESHOLDS`); :meth:`AudioJudge.calibrate` refits them on your data.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from ..errors import InputError
from .base import BaseJudge, JudgeInputError, as_audio_list, check_sample_rate

ANALYSIS_RATE = 16000
N_FFT = 1024
HOP = 256
MIN_SECONDS = 0.5

# Thresholds calibrated (max balanced accuracy, rule of calibrate_threshold) on rendered organism clips of 4 s:
# the calibration halves of `python benchmarks/judges_agreement.py --seed 1` (128 clips per concept), rounded.
ORGANISM_THRESHOLDS: dict[str, float] = {"tempo": 4.0, "timbre": 0.85, "drums": 0.19, "bass": 0.19}


@dataclass(frozen=True)
class Calibration:
    """The threshold :func:`calibrate_threshold` chose and the balanced accuracy it reaches on its data."""

    threshold: float
    balanced_accuracy: float
    n_positive: int
    n_negative: int


def balanced_accuracy(present: np.ndarray, labels: np.ndarray) -> float:
    """Mean of the true-positive and true-negative rates."""
    present, labels = np.asarray(present, bool), np.asarray(labels, bool)
    return 0.5 * (float(present[labels].mean()) + float((~present[~labels]).mean()))


def calibrate_threshold(scores: np.ndarray, labels: np.ndarray | torch.Tensor) -> Calibration:
    """The threshold (present = score > threshold) that maximises balanced accuracy.

    Candidates are midpoints between consecutive distinct scores; among equally
    good ones the middle candidate is taken (the centre of the widest agreement).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(torch.as_tensor(labels).cpu()).astype(bool).reshape(-1)
    if scores.shape != labels.shape:
        raise JudgeInputError(f"labels have {labels.shape[0]} entries but there are {scores.shape[0]} scores")
    if labels.all() or not labels.any():
        raise JudgeInputError("labels must hold both classes to calibrate a threshold")
    distinct = np.unique(scores)
    if len(distinct) == 1:
        candidates = distinct - 1e-9
    else:
        candidates = np.concatenate([[distinct[0] - 1e-9], (distinct[1:] + distinct[:-1]) / 2])
    accs = np.array([balanced_accuracy(scores > t, labels) for t in candidates])
    best = np.flatnonzero(accs == accs.max())
    pick = best[len(best) // 2]
    return Calibration(float(candidates[pick]), float(accs[pick]), int(labels.sum()), int((~labels).sum()))


def prepare(clip: np.ndarray, sample_rate: int, analysis_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """A mono clip resampled to ``analysis_rate``; clips shorter than :data:`MIN_SECONDS` are refused."""
    if clip.shape[0] < MIN_SECONDS * sample_rate:
        raise JudgeInputError(f"audio clips must last at least {MIN_SECONDS} s; got {clip.shape[0]} samples "
                              f"at {sample_rate} Hz")
    if sample_rate == analysis_rate:
        return clip
    return librosa.resample(clip, orig_sr=sample_rate, target_sr=analysis_rate)


def tonal_peaks(mag: np.ndarray, freqs: np.ndarray, low: float, high: float, floor: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes in ``[low, high]`` Hz minus ``floor`` x each frame's median (clipped at 0), and their frequencies."""
    band = (freqs >= low) & (freqs <= high)
    x = mag[band]
    noise = floor * np.median(x, axis=0, keepdims=True)
    return np.maximum(x - noise, 0.0), freqs[band]


def spectrum_peaks(y: np.ndarray, low: float, high: float, floor: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude STFT of ``y``, its bin frequencies, and its tonal peaks between ``low`` and ``high`` Hz."""
    mag = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    freqs = librosa.fft_frequencies(sr=ANALYSIS_RATE, n_fft=N_FFT)
    peaks, fb = tonal_peaks(mag, freqs, low, high, floor=floor)
    return mag, freqs, peaks, fb


class AudioJudge(BaseJudge):
    """Base of the librosa judges: a feature per clip, a threshold, calibration from labelled audio."""

    needs = "audio"
    unit = ""
    analysis_rate = ANALYSIS_RATE

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = float(ORGANISM_THRESHOLDS[self.concept] if threshold is None else threshold)

    def feature(self, y: np.ndarray) -> float:
        """The score of one clip at :attr:`analysis_rate`."""
        raise NotImplementedError

    def score_audio(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        return np.array([self.feature(prepare(a, sample_rate, self.analysis_rate)) for a in audio], dtype=np.float64)

    def calibrate(self, audio, labels, sample_rate: int) -> Calibration:
        """Set :attr:`threshold` to the one maximising balanced accuracy against ``labels`` on ``audio``."""
        clips = as_audio_list(audio)
        scores = self.score_audio(clips, check_sample_rate(sample_rate))
        cal = calibrate_threshold(scores, labels)
        self.threshold = cal.threshold
        return cal


class TempoJudge(AudioJudge):
    """Note changes per second: onsets of the chroma of the tonal peaks (250-5000 Hz)."""

    concept = "tempo"
    name = "audio:tempo"
    unit = "note onsets per second"

    def feature(self, y: np.ndarray) -> float:
        mag, freqs, peaks, _ = spectrum_peaks(y, 250.0, 5000.0, floor=4.0)
        full = np.zeros_like(mag)
        full[(freqs >= 250.0) & (freqs <= 5000.0)] = peaks
        chroma = librosa.feature.chroma_stft(S=full**2, sr=ANALYSIS_RATE, n_fft=N_FFT, tuning=0.0)
        env = librosa.onset.onset_strength(S=chroma, sr=ANALYSIS_RATE, hop_length=HOP)
        onsets = librosa.onset.onset_detect(onset_envelope=env, sr=ANALYSIS_RATE, hop_length=HOP, wait=5,
                                            delta=0.15, normalize=True)
        return len(onsets) / (len(y) / ANALYSIS_RATE)


class BrightnessJudge(AudioJudge):
    """Octaves from the dominant partial to the spectral centroid of the tonal peaks (250-7900 Hz)."""

    concept = "timbre"
    name = "audio:brightness"
    unit = "octaves above the dominant partial"

    def feature(self, y: np.ndarray) -> float:
        _, _, peaks, fb = spectrum_peaks(y, 250.0, 7900.0, floor=10.0)
        energy = peaks.sum(0)
        if energy.sum() <= 0:
            return 0.0
        centroid = librosa.feature.spectral_centroid(S=peaks, freq=fb)[0]
        dominant = fb[np.argmax(peaks, axis=0)]
        octaves = np.log2(np.maximum(centroid, 1.0) / np.maximum(dominant, 1.0))
        return float((octaves * energy).sum() / energy.sum())


class PercussionJudge(AudioJudge):
    """Share of the energy that harmonic-percussive separation calls percussive."""

    concept = "drums"
    name = "audio:percussive"
    unit = "percussive energy share"
    analysis_rate = 32000  # cymbals and hats put much of their energy above 8 kHz

    def feature(self, y: np.ndarray) -> float:
        mag = np.abs(librosa.stft(y, n_fft=2 * N_FFT, hop_length=2 * HOP))  # the same 64 ms / 16 ms as at 16 kHz
        harm, perc = librosa.decompose.hpss(mag)
        total = float((harm**2).sum() + (perc**2).sum())
        return float((perc**2).sum()) / total if total > 0 else 0.0


class LowEndJudge(AudioJudge):
    """Sustained (harmonic) energy in ``[low, high)`` Hz as a share of all energy above ``low`` Hz."""

    concept = "bass"
    name = "audio:low-end"
    unit = "sustained low-band share of energy"

    def __init__(self, threshold: float | None = None, low: float = 58.0, high: float = 160.0) -> None:
        super().__init__(threshold)
        if not 0 <= low < high < ANALYSIS_RATE / 2:
            raise InputError(f"need 0 <= low < high < {ANALYSIS_RATE // 2} Hz, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def feature(self, y: np.ndarray) -> float:
        n_fft = 4 * N_FFT  # 3.9 Hz bins: bass fundamentals resolved from kick tails
        mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=2 * HOP))
        freqs = librosa.fft_frequencies(sr=ANALYSIS_RATE, n_fft=n_fft)
        rows = freqs < max(500.0, 2 * self.high)  # separate only the low rows (the percussive kernel spans 120 Hz)
        harm, _ = librosa.decompose.hpss(mag[rows])
        f = freqs[rows]
        band = (harm[(f >= self.low) & (f < self.high)] ** 2).sum()
        above = (mag[freqs >= self.low] ** 2).sum()
        return float(band / above) if above > 0 else 0.0


def audio_judges() -> list[AudioJudge]:
    """One audio judge per organism concept (drums, tempo, timbre, bass) with the organism-calibrated thresholds."""
    return [PercussionJudge(), TempoJudge(), BrightnessJudge(), LowEndJudge()]
