"""Audio-feature judges on synthetic signals whose answer is known, and threshold calibration."""

import numpy as np
import pytest

from musicinterp.judges import (
    BrightnessJudge,
    JudgeInputError,
    LowEndJudge,
    PercussionJudge,
    TempoJudge,
    audio_judges,
    calibrate_threshold,
)
from musicinterp.judges.audio import ORGANISM_THRESHOLDS, balanced_accuracy

SR = 16000
PITCHES = [60, 64, 67, 62, 65, 69, 71, 72]


def tone(midi: float, seconds: float, harmonics: int = 3, tilt: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum(np.sin(2 * np.pi * f0 * h * t) / h**tilt for h in range(1, harmonics + 1) if f0 * h < SR / 2)
    return (wave * np.exp(-t / 0.3) * np.minimum(1, t / 0.005)).astype(np.float32)


def melody(notes_per_second: float, seconds: float = 4.0, **kw) -> np.ndarray:
    step = 1.0 / notes_per_second
    n = int(seconds * notes_per_second)
    return 0.3 * np.concatenate([tone(PITCHES[i % len(PITCHES)], step, **kw) for i in range(n)])


def clicks(hits_per_second: float, seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR), np.float32)
    burst = (rng.standard_normal(800) * np.exp(-np.arange(800) / 120)).astype(np.float32)
    for start in np.arange(0, seconds - 0.06, 1 / hits_per_second):
        i = int(start * SR)
        out[i : i + 800] += 0.5 * burst
    return out


def test_tempo_counts_note_changes_per_second():
    judge = TempoJudge()
    slow, fast = judge(audio=[melody(2.0), melody(6.0)], sample_rate=SR).scores
    assert slow == pytest.approx(2.0, abs=0.5)
    assert fast == pytest.approx(6.0, abs=1.0)
    # drum hits are not notes: clicks on top of the slow melody leave its rate
    with_drums = judge(audio=melody(2.0) + clicks(8.0), sample_rate=SR).scores[0]
    assert with_drums == pytest.approx(slow, abs=0.75)


def test_brightness_rises_with_harmonics_not_with_pitch():
    judge = BrightnessJudge()
    dark_low, dark_high = (judge(audio=melody(2.0, harmonics=2, tilt=2.0) * 1.0, sample_rate=SR).scores[0],
                           judge(audio=0.3 * tone(79, 4.0, harmonics=2, tilt=2.0), sample_rate=SR).scores[0])
    bright = judge(audio=melody(2.0, harmonics=12, tilt=0.8), sample_rate=SR).scores[0]
    assert bright > dark_low + 0.5 and bright > dark_high + 0.5
    assert abs(dark_low - dark_high) < 0.3
    assert judge(audio=np.zeros(SR, np.float32), sample_rate=SR).scores[0] == 0.0


def test_percussive_share_separates_noise_bursts_from_tones():
    judge = PercussionJudge()
    tonal, drums = judge(audio=[melody(2.0), clicks(4.0)], sample_rate=SR).scores
    assert tonal < 0.1 < 0.6 < drums
    assert 0 <= tonal <= 1 and 0 <= drums <= 1


def test_low_end_share_sees_sustained_bass_only():
    judge = LowEndJudge()
    t = np.arange(4 * SR) / SR
    bass = (0.4 * np.sin(2 * np.pi * 98.0 * t)).astype(np.float32)
    lead = melody(2.0)
    without, with_bass = judge(audio=[lead, lead + bass], sample_rate=SR).scores
    assert without < 0.05 and with_bass > 0.5
    with pytest.raises(ValueError, match="low < high"):
        LowEndJudge(low=200.0, high=100.0)


def test_judges_resample_and_refuse_short_clips():
    judge = TempoJudge()
    at_16k = judge(audio=melody(4.0), sample_rate=SR).scores[0]
    y32 = np.repeat(melody(4.0), 2)  # the same signal at 32 kHz (sample-and-hold)
    assert judge(audio=y32, sample_rate=32000).scores[0] == pytest.approx(at_16k, abs=0.5)
    with pytest.raises(JudgeInputError, match="at least 0.5 s"):
        judge(audio=np.zeros(SR // 4, np.float32), sample_rate=SR)


def test_calibrate_threshold_picks_the_middle_of_the_widest_gap():
    cal = calibrate_threshold(np.array([0.1, 0.2, 0.8, 0.9]), [0, 0, 1, 1])
    assert cal.threshold == pytest.approx(0.5) and cal.balanced_accuracy == 1.0
    assert (cal.n_positive, cal.n_negative) == (2, 2)
    noisy = calibrate_threshold(np.array([0.1, 0.6, 0.3, 0.9]), [0, 0, 1, 1])
    assert noisy.balanced_accuracy == 0.75
    assert balanced_accuracy(np.array([1, 0, 0, 0]), np.array([1, 1, 0, 0])) == 0.75
    with pytest.raises(JudgeInputError, match="both classes"):
        calibrate_threshold(np.array([0.1, 0.2]), [1, 1])
    with pytest.raises(JudgeInputError, match="labels have 3"):
        calibrate_threshold(np.array([0.1, 0.2]), [1, 0, 1])


def test_calibrate_sets_the_judge_threshold_and_defaults_are_the_organisms():
    judges = audio_judges()
    assert {j.concept: j.threshold for j in judges} == ORGANISM_THRESHOLDS
    judge = TempoJudge()
    cal = judge.calibrate([melody(2.0), melody(2.5), melody(6.0), melody(7.0)], [0, 0, 1, 1], SR)
    assert judge.threshold == cal.threshold and 2.5 < cal.threshold < 6.0
    assert TempoJudge(threshold=1.0).threshold == 1.0
