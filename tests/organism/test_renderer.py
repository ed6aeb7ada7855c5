import numpy as np
import pytest

from musicinterp.organism.renderer import render, render_clip
from musicinterp.organism.world import Latents, OrganismWorld

SR = 32000


def _pair(concept, seed=3, **fixed):
    world = OrganismWorld(200)
    base = world.sample(seed, latents=Latents(**{**dict(drums=0, tempo=0, timbre=0, bass=0), **fixed}))
    return render_clip(world.with_concept(base, concept, 1).codes), render_clip(world.with_concept(base, concept, 0).codes)


def _centroid(x):
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


def _onset_rate(x):
    """Onsets per second from spectral flux (new partials appear even while the last note rings)."""
    hop, win = 320, 1024
    frames = np.stack([x[i : i + win] * np.hanning(win) for i in range(0, len(x) - win, hop)])
    mag = np.log1p(np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.maximum(mag[1:] - mag[:-1], 0).sum(1)
    thresh = flux.mean() + flux.std()
    peaks = (flux[1:-1] > thresh) & (flux[1:-1] >= flux[:-2]) & (flux[1:-1] >= flux[2:])
    return peaks.sum() / (len(x) / SR)


def _high_band_energy(x):
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float(spec[freqs > 5000].sum() / spec.sum())


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_bright_has_higher_spectral_centroid(seed):
    bright, dark = _pair("timbre", seed)
    assert _centroid(bright) > 1.3 * _centroid(dark)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_fast_has_higher_onset_rate(seed):
    fast, slow = _pair("tempo", seed)
    assert _onset_rate(fast) > 1.4 * _onset_rate(slow)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_drums_add_broadband_transients(seed):
    with_drums, without = _pair("drums", seed)
    assert _high_band_energy(with_drums) > 5 * _high_band_energy(without)
    assert _onset_rate(with_drums) > _onset_rate(without)


def test_bass_adds_low_energy():
    with_bass, without = _pair("bass", 5)
    def low(x):
        spec = np.abs(np.fft.rfft(x)) ** 2
        return spec[np.fft.rfftfreq(len(x), 1 / SR) < 150].sum() / spec.sum()
    assert low(with_bass) > 3 * low(without)


def test_render_shapes_and_arbitrary_codes():
    rng = np.random.default_rng(0)
    audio = render(rng.integers(0, 256, size=(2, 4, 50)))
    assert audio.shape == (2, 50 * 640) and audio.dtype == np.float32 and np.isfinite(audio).all()
    assert np.abs(audio).max() <= 1.0
