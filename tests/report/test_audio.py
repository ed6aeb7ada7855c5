import io

import numpy as np
import pytest
import soundfile as sf
import torch

from musicinterp.report import Audio, ReportError


def test_wav_bytes_round_trip_and_are_deterministic():
    x = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    a = Audio(x, 16000, "ramp")
    data, rate = sf.read(io.BytesIO(a.wav_bytes()), dtype="float32")
    assert rate == 16000 and np.abs(data - x).max() < 1 / 2**14
    assert Audio(x, 16000).wav_bytes() == a.wav_bytes()
    assert a.seconds == pytest.approx(1000 / 16000)


def test_loud_audio_is_peak_normalised_and_stereo_kept():
    x = np.stack([np.full(100, 2.0), np.full(100, -1.0)]).astype(np.float32)
    data, _ = sf.read(io.BytesIO(Audio(x, 8000).wav_bytes()), dtype="float32")
    assert data.shape == (100, 2)
    assert data[0, 0] == pytest.approx(1.0, abs=1e-4) and data[0, 1] == pytest.approx(-0.5, abs=1e-4)


def test_tensor_input_and_coerce():
    a = Audio.coerce((torch.zeros(10), 8000.0), "z")
    assert a.sample_rate == 8000 and isinstance(a.sample_rate, int) and a.label == "z"
    assert "0.00 s at 8000 Hz" in repr(a) and a._repr_html_().startswith('<figure class="mi-audio">')


@pytest.mark.parametrize(("samples", "rate", "match"), [
    (np.array([0.0, np.inf]), 8000, "samples .* contain NaN or inf"),
    (np.zeros(10), 0, "sample_rate must be a positive integer"),
    (np.zeros(10), 44.1, "sample_rate must be a positive integer"),
    (np.zeros(10), "fast", "sample_rate must be a positive integer"),
    (np.zeros((100, 2)), 8000, r"at most 8 channels; got shape \(100, 2\)"),
    (np.zeros((1, 2, 3)), 8000, "non-empty"),
    (["a", "b"], 8000, "samples must be a numeric array"),
])
def test_bad_audio_is_named(samples, rate, match):
    with pytest.raises(ReportError, match=match):
        Audio(samples, rate)
