"""Audio players: the WAV bytes hold the samples given, one labelled player per row."""

import base64
import io

import numpy as np
import pytest
import soundfile as sf

from musicinterp.views.audio import Players, audio_players_html, compare_players_html, players, wav_base64


def _decode(b64: str) -> tuple[np.ndarray, int]:
    return sf.read(io.BytesIO(base64.b64decode(b64)), dtype="float32")


def test_wav_holds_the_samples_clipped_to_one():
    samples = np.array([0.0, 0.5, -0.25, 1.5, -2.0])
    data, rate = _decode(wav_base64(samples, 8000))
    assert rate == 8000
    assert data.tolist() == pytest.approx([0.0, 0.5, -0.25, 1.0, -1.0], abs=1 / 32767)
    assert wav_base64(samples, 8000) == wav_base64(samples, 8000)  # deterministic bytes


def test_one_player_per_row_with_escaped_labels_and_a_limit():
    audio = np.zeros((5, 10))
    html = audio_players_html(audio, 100, labels=["a<b", "c", "d", "e", "f"], limit=3)
    assert html.count("<audio controls") == 3
    assert "a&lt;b" in html and "a<b" not in html
    assert "... 2 more" in html
    assert audio_players_html(np.zeros(10), 100).count("<audio controls") == 1  # a 1-D clip is one row
    assert ">#0<" in audio_players_html(np.zeros(10), 100)


def test_compare_players_take_the_same_row_of_each_version():
    a = np.array([[0.0, 0.1], [0.2, 0.3]])
    b = np.array([[0.5, 0.5], [-0.5, -0.5]])
    html = compare_players_html({"unsteered": a, "steered": b}, 50, index=1)
    assert html.count("<audio controls") == 2 and "unsteered" in html and "steered" in html
    srcs = [part.split("'", 1)[0] for part in html.split("src='data:audio/wav;base64,")[1:]]
    assert _decode(srcs[0])[0].tolist() == pytest.approx([0.2, 0.3], abs=1e-4)
    assert _decode(srcs[1])[0].tolist() == pytest.approx([-0.5, -0.5], abs=1e-4)


class _Result:
    def __init__(self, audio, sample_rate):
        self.audio, self.sample_rate = audio, sample_rate


def test_players_from_results_and_pairs():
    p = players(index=1, base=_Result(np.zeros((2, 150)), 100), steered=(np.ones((2, 150)) * 0.5, 100))
    assert isinstance(p, Players) and list(p.audio) == ["base", "steered"]
    assert p.audio["steered"].tolist() == [0.5] * 150 and p.sample_rate == 100
    assert repr(p) == "Players(base (1.5 s), steered (1.5 s))"
    assert p._repr_html_().count("<audio controls") == 2


def test_players_refuse_bad_input():
    with pytest.raises(ValueError, match="at least one named result"):
        players()
    with pytest.raises(ValueError, match="'x' has no audio"):
        players(x=_Result(None, 100))
    with pytest.raises(ValueError, match="'b' is at 200 Hz, the others at 100 Hz"):
        players(a=(np.zeros(4), 100), b=(np.zeros(4), 200))
