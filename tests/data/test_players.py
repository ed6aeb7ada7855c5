"""Embedded players: the WAV is the samples at 16 bits (read back with soundfile as integers), players are
capped at ``limit`` and labels are escaped."""

import base64
import io

import numpy as np
import soundfile as sf

from musicinterp.data.players import audio_players_html, compare_players_html, wav_base64


def _decode(b64, dtype="float64"):
    return sf.read(io.BytesIO(base64.b64decode(b64)), dtype=dtype)


def _sources(html):
    return [part.split("'", 1)[0] for part in html.split("src='data:audio/wav;base64,")[1:]]


def test_wav_round_trips_within_16_bit_quantisation():
    samples = np.random.default_rng(0).uniform(-0.99, 0.99, size=1000)
    data, rate = _decode(wav_base64(samples, 16_000))
    assert rate == 16_000 and data.shape == (1000,)
    assert np.abs(data - samples).max() <= 1 / 32768
    ints, _ = _decode(wav_base64(samples, 16_000), dtype="int16")
    assert np.abs(ints - samples * 32768).max() < 1  # each sample is within one 16-bit step
    info = sf.info(io.BytesIO(base64.b64decode(wav_base64(samples, 16_000))))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)


def test_labels_escaped_and_players_capped():
    audio = np.linspace(-0.5, 0.5, 40).reshape(4, 10)
    html = audio_players_html(audio, 100, labels=['"x" & <y>', "b", "c", "d"], limit=2)
    assert html.count("<audio controls") == 2 and "<div>... 2 more</div>" in html
    assert "&quot;x&quot; &amp; &lt;y&gt;" in html and "<y>" not in html
    srcs = _sources(html)
    assert np.allclose(_decode(srcs[1])[0], audio[1], atol=1 / 32768)
    exact = audio_players_html(audio, 100, limit=4)
    assert exact.count("<audio controls") == 4 and "more" not in exact
    assert [f">#{i}<" in exact for i in range(4)] == [True] * 4


def test_compare_players_in_the_order_given():
    a, b = np.zeros((2, 8)), np.full((2, 8), 0.25)
    html = compare_players_html({"steered": b, "unsteered": a}, 100, index=0)
    assert html.index("steered") < html.index("unsteered")
    first, second = (_decode(s)[0] for s in _sources(html))
    assert np.allclose(first, 0.25, atol=1 / 32768) and np.allclose(second, 0.0)
