import dataclasses

import numpy as np
import pytest
import torch

from musicinterp.organism import vocab as V
from musicinterp.organism.detectors import detect_all
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


def _bass_codes(tokens):
    codes = np.zeros((4, len(tokens)), dtype=np.int64)
    codes[V.BASS] = tokens
    return codes


def _bass_line(tokens):
    return render_clip(_bass_codes(tokens))


def _band_rms(x, hz, width=6.0):
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float(np.sqrt((spec[np.abs(freqs - hz) < width] ** 2).sum()))


def test_sustain_no_onset_started_sounds_its_pitch_like_the_detector_counts_it():
    """A steered model's mid-note start: the bass detector counts those frames as sounding, so the codec sounds
    them too (a held tone at the sustain's pitch), not silence."""
    pitch = 12
    held = [V.bass_sustain(pitch)] * 40
    audio = _bass_line(held)
    assert float(detect_all(torch.as_tensor(_bass_codes(held))[None])["bass"]) == 1.0
    hz = 440.0 * 2 ** ((V.BASS_LOW_MIDI + pitch - 69) / 12)
    assert _band_rms(audio, hz) > 20 * _band_rms(audio, hz * 1.5)
    started = _bass_line([V.bass_onset(pitch, 0)] + [V.bass_sustain(pitch)] * 39)
    assert _band_rms(audio, hz) > 0.3 * _band_rms(started, hz)


def test_held_tone_has_no_attack_where_an_onset_has_one():
    """Only an onset is heard as a new note: the held tone fades in over tens of ms, an onset in 5 ms."""
    pitch = 12
    held = _bass_line([V.bass_sustain(pitch)] * 20)
    started = _bass_line([V.bass_onset(pitch, 0)] + [V.bass_sustain(pitch)] * 19)
    first_5ms = slice(0, int(0.005 * SR) + 40)
    assert np.abs(held[first_5ms]).max() < 0.25 * np.abs(started[first_5ms]).max()


def test_sustain_of_another_pitch_ends_the_note_and_holds_its_own():
    tokens = [V.bass_onset(10, 0)] + [V.bass_sustain(10)] * 19 + [V.bass_sustain(17)] * 20
    audio = _bass_line(tokens)
    second = audio[20 * 640 + 2000 :]
    hz_new = 440.0 * 2 ** ((V.BASS_LOW_MIDI + 17 - 69) / 12)
    hz_old = 440.0 * 2 ** ((V.BASS_LOW_MIDI + 10 - 69) / 12)
    assert _band_rms(second, hz_new) > 5 * _band_rms(second, hz_old)


def test_valid_clips_render_as_before_a_held_tone_existed():
    """A world clip has no sustain without its onset, so every note keeps its attack (the CLAP's training audio
    does not depend on the held-tone rule)."""
    from musicinterp.organism.renderer import HELD, _voice_notes

    clip = OrganismWorld(200).sample(4, latents=Latents(drums=1, tempo=1, timbre=1, bass=1))
    codes = clip.codes.numpy()
    for voice, args in ((V.LEAD, (V.LEAD_ONSET_MAX, V.LEAD_VELOCITIES, V.LEAD_SUSTAIN, V.LEAD_PITCHES)),
                        (V.BASS, (V.BASS_ONSET_MAX, V.BASS_VELOCITIES, V.BASS_SUSTAIN, V.BASS_PITCHES))):
        notes = _voice_notes(codes[voice], *args)
        assert notes and all(vel != HELD for *_, vel in notes)
        assert sum(end - start for start, end, *_ in notes) == int((codes[voice] > 0).sum())


def _lead_line(velocity: int, pitch: int = 20) -> np.ndarray:
    codes = torch.zeros(V.N_CODEBOOKS, 50, dtype=torch.long)
    codes[V.LEAD, 0] = V.lead_onset(pitch, velocity)
    codes[V.LEAD, 1:] = V.lead_sustain(pitch)
    return render_clip(codes)


def test_lead_velocity_steps_are_6_db_apart():
    """A listener tells the lead's levels apart: each velocity step doubles the amplitude (6 dB), with the note's
    shape otherwise the same over its first 100 ms (its decay lengthens with velocity only slowly)."""
    first = slice(0, int(0.1 * SR))
    rms = [float(np.sqrt(np.mean(_lead_line(v)[first] ** 2))) for v in range(V.LEAD_VELOCITIES)]
    for soft, loud in zip(rms, rms[1:], strict=False):
        assert 20 * np.log10(loud / soft) == pytest.approx(6.0, abs=0.8)


def test_one_gain_for_every_clip_so_loud_is_a_level():
    """The same clip at the world's three dynamics levels rises in level, drums and all (no per-clip
    normalisation pulls a loud clip back to the others)."""
    world = OrganismWorld(200)
    clip = world.sample(11, latents=Latents(drums=1, tempo=0, timbre=0, bass=1))
    levels = []
    for dynamics in (0, 1, 2):
        audio = render_clip(world.render_codes(clip.latents, dataclasses.replace(clip.nuisance, dynamics=dynamics),
                                               200))
        assert np.abs(audio).max() < 0.99  # the world's clips are never scaled down
        levels.append(float(np.sqrt(np.mean(audio ** 2))))
    steps = 20 * np.log10(np.array(levels[1:]) / np.array(levels[:-1]))
    assert (steps > 1.0).all() and steps.sum() > 4.0
