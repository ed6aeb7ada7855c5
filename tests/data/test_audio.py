"""Audio headers are checked before anything is allocated; every bad file ends in a named AudioError."""

import struct
import time

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.data.audio import MAX_AUDIO_BYTES, AudioError, load_audio, resample, resample_bytes
from musicinterp.errors import MusicInterpError


def _wav(path, n=1000, rate=8000, channels=1):
    sf.write(path, 0.1 * np.random.default_rng(0).standard_normal((n, channels)), rate, subtype="PCM_16")
    return path


def _set_rate(path, rate):
    data = bytearray(path.read_bytes())
    assert data[:4] == b"RIFF" and data[12:16] == b"fmt "
    data[24:28] = struct.pack("<I", rate)  # canonical PCM header: sample rate, then byte rate
    data[28:32] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(data))


def test_a_tiny_wav_claiming_millions_of_hertz_is_refused_at_once(tmp_path):
    path = _wav(tmp_path / "a.wav")
    _set_rate(path, 4_000_037)
    assert path.stat().st_size < 2100 and sf.info(str(path)).samplerate == 4_000_037
    t0 = time.perf_counter()
    with pytest.raises(AudioError, match=r"a.wav: its header says 4000037 Hz; sample rates from 1000 to 384000"):
        load_audio(path, 32000)
    assert time.perf_counter() - t0 < 1.0
    assert resample_bytes(2000, 4_000_037, 32000) > 600 * 2**20  # what it would have cost: 80 M filter taps
    with pytest.raises(AudioError, match="source sample rate 4000037 Hz is outside"):
        resample(np.zeros(2000, np.float32), 4_000_037, 32000)


def test_rates_at_the_bounds_are_read(tmp_path):
    for rate in (1000, 384000):
        got = load_audio(_wav(tmp_path / f"r{rate}.wav", n=rate // 10, rate=rate), 32000)
        assert got.source_rate == rate and abs(len(got.samples) - 3200) <= 1


def test_clip_length_and_segment_bounds(tmp_path):
    long = _wav(tmp_path / "long.wav", n=1000 * 601, rate=1000)
    with pytest.raises(AudioError, match="601 s from offset 0 s is longer than 600 s .*give the entry a duration"):
        load_audio(long, 32000)
    assert len(load_audio(long, 32000, offset_s=10, duration_s=2).samples) == 64000
    for bad in ({"offset_s": float("nan")}, {"offset_s": -1.0}, {"duration_s": float("inf")}, {"duration_s": 0.0},
                {"duration_s": 601.0}):
        with pytest.raises(AudioError, match="long.wav: (offset|duration)"):
            load_audio(long, 32000, **bad)


def test_memory_of_decode_and_resample_is_estimated_first(tmp_path, monkeypatch):
    import musicinterp.data.audio as A

    path = _wav(tmp_path / "m.wav", n=3 * 44100, rate=44100, channels=2)
    monkeypatch.setattr(A, "MAX_AUDIO_BYTES", 1 << 20)
    with pytest.raises(AudioError, match=r"m.wav: reading 132300 frames of 2 channels at 44100 Hz .* about \d+ MB, "
                                         r"more than 1 MB"):
        A.load_audio(path, 32000)
    assert MAX_AUDIO_BYTES == 1 << 30


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_headers_read_or_raise_a_named_audio_error(tmp_path, data):
    """Random damage to a WAV header: a valid result within the bounds, or AudioError naming the file."""
    path = tmp_path / "f.wav"
    raw = bytearray(_wav(path, n=400, rate=16000, channels=2).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, 47))
        raw[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        at = data.draw(st.sampled_from([4, 22, 24, 40]))  # sizes, channels, rate, data size
        raw[at : at + 4] = struct.pack("<I", data.draw(st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 4_000_037])))
    path.write_bytes(bytes(raw))
    t0 = time.perf_counter()
    try:
        got = load_audio(path, 32000)
    except AudioError as err:
        assert isinstance(err, MusicInterpError) and "f.wav" in str(err)
    else:
        assert 1000 <= got.source_rate <= 384000 and np.isfinite(got.samples).all() and got.samples.dtype == np.float32
    assert time.perf_counter() - t0 < 5.0
