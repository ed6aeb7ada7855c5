"""A small synthesizer that turns organism codes into 32 kHz audio.

Each concept is audible: drums as kick/snare/hat hits, tempo as the lead's
note rate, timbre as the lead's harmonic brightness, bass as a low line; the
dynamics nuisance as level (velocity steps a listener tells apart, one gain for
every clip).
Works on any codes (including invalid ones a steered model may produce).
Like a neural codec, it sounds every frame it is given: a run of sustains
that no onset of their pitch started (what a steered model emits when it
starts a note mid-bar) sounds as a held tone with no attack, so the audio
holds what the exact detectors count (``bass_rate`` counts every sounding
frame) and an audio judge hears a broken continuation as it is.
"""

from __future__ import annotations

import numpy as np
import torch

from . import vocab as V


def _midi_hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


# Velocity steps a listener can tell apart: the lead's levels 6 dB apart, the drums' 4 dB, and one master gain
# for every clip (the loudest of 1000 world clips peaks at 0.96), so "loud" is a level and not a mix. A clip whose peak
# would still clip (a steered model stacking notes) is scaled down to a 0.99 peak.
LEAD_GAINS = (0.06, 0.12, 0.24)  # lead amplitude per velocity
DRUM_GAINS = (0.25, 0.4, 0.63, 1.0)  # drum hit gain per velocity
BASS_GAINS = (0.3, 0.35)  # bass amplitude per velocity
MASTER_GAIN = 0.25

HELD = -1  # the velocity of a note no onset started: it sounds without an attack
ATTACK_S, HELD_ATTACK_S = 0.005, 0.04  # an onset's attack; a held tone's fade-in (no transient to hear)


def _voice_notes(tokens: np.ndarray, onset_max: int, per_pitch: int, sustain: int, n_pitches: int
                 ) -> list[tuple[int, int, int, int]]:
    """(start, end, pitch, velocity) notes: an onset, extended by sustains of the same pitch; a run of
    sustains that no onset of their pitch started is a note of velocity :data:`HELD`."""
    notes: list[tuple[int, int, int, int]] = []
    cur: list[int] | None = None
    for f, tok in enumerate(tokens.tolist()):
        is_sustain = sustain <= tok < sustain + n_pitches
        if is_sustain and cur is not None and tok - sustain == cur[2]:
            cur[1] = f + 1
            continue
        if cur:
            notes.append(tuple(cur))  # type: ignore[arg-type]
        if 1 <= tok < onset_max:
            cur = [f, f + 1, (tok - 1) // per_pitch, (tok - 1) % per_pitch]
        elif is_sustain:
            cur = [f, f + 1, tok - sustain, HELD]
        else:
            cur = None
    if cur:
        notes.append(tuple(cur))  # type: ignore[arg-type]
    return notes


def _played(velocity: int) -> tuple[int, float]:
    """(velocity, attack seconds) a note is played with: a :data:`HELD` note at the softest velocity, faded in."""
    return (0, HELD_ATTACK_S) if velocity == HELD else (velocity, ATTACK_S)


def _tone(freq: float, n: int, harmonics: np.ndarray, decay_s: float, sr: int, attack_s: float = ATTACK_S
          ) -> np.ndarray:
    t = np.arange(n) / sr
    wave = np.zeros(n)
    for h, amp in enumerate(harmonics, start=1):
        if amp and freq * h < sr / 2:
            wave += amp * np.sin(2 * np.pi * freq * h * t)
    env = np.minimum(1.0, t / attack_s) * np.exp(-t / decay_s)
    return wave * env


def _drum(instrument: int, velocity: int, variant: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    gain = DRUM_GAINS[velocity]
    if instrument == 0:  # kick: falling sine
        n = int(0.25 * sr)
        t = np.arange(n) / sr
        f = 45 + 80 * np.exp(-t / (0.03 + 0.01 * variant))
        return gain * 1.4 * np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.12)
    if instrument == 1:  # snare: noise + body
        n = int(0.2 * sr)
        t = np.arange(n) / sr
        body = np.sin(2 * np.pi * (180 + 20 * variant) * t)
        return gain * (0.8 * rng.standard_normal(n) + 0.5 * body) * np.exp(-t / 0.07)
    decay = 0.035 if instrument == 2 else 0.18  # closed / open hat: high-passed noise
    n = int(min(4 * decay, 0.4) * sr)
    t = np.arange(n) / sr
    noise = np.diff(rng.standard_normal(n + 1))
    return gain * 0.45 * noise * np.exp(-t / (decay * (1 + 0.2 * variant)))


def render_clip(codes: np.ndarray | torch.Tensor, sample_rate: int = V.SAMPLE_RATE) -> np.ndarray:
    """``(K, T)`` codes -> mono float32 audio of ``T`` frames."""
    codes = np.asarray(torch.as_tensor(codes).cpu(), dtype=np.int64)
    hop = sample_rate // V.FRAME_RATE
    n_frames = codes.shape[-1]
    out = np.zeros(n_frames * hop + sample_rate // 2)
    rng = np.random.default_rng(0)
    levels = np.clip(codes[V.BRIGHT], 0, V.BRIGHT_MAX - 1) // V.BRIGHT_PHASES

    for start, end, pitch, vel in _voice_notes(codes[V.LEAD], V.LEAD_ONSET_MAX, V.LEAD_VELOCITIES,
                                                V.LEAD_SUSTAIN, V.LEAD_PITCHES):
        level = float(levels[start:end].mean())
        n_harm = 1 + int(round(level * 0.75))
        harmonics = np.array([1.0 / h ** (1.6 - level / 16) for h in range(1, n_harm + 1)])
        n = (end - start) * hop
        vel, attack = _played(vel)
        tone = _tone(_midi_hz(V.LEAD_LOW_MIDI + pitch), n, harmonics, decay_s=0.25 + 0.05 * vel, sr=sample_rate,
                     attack_s=attack)
        out[start * hop : start * hop + n] += LEAD_GAINS[vel] * tone / max(1.0, np.abs(harmonics).sum() ** 0.5)

    for start, end, pitch, vel in _voice_notes(codes[V.BASS], V.BASS_ONSET_MAX, V.BASS_VELOCITIES,
                                                V.BASS_SUSTAIN, V.BASS_PITCHES):
        n = (end - start) * hop
        vel, attack = _played(vel)
        tone = _tone(_midi_hz(V.BASS_LOW_MIDI + pitch), n, np.array([1.0, 0.3, 0.1]), decay_s=0.6, sr=sample_rate,
                     attack_s=attack)
        out[start * hop : start * hop + n] += BASS_GAINS[vel] * tone

    for f, tok in enumerate(codes[V.DRUMS].tolist()):
        if 1 <= tok < V.DRUM_MAX:
            hit = _drum(*V.drum_parts(tok), sample_rate, rng)
            seg = out[f * hop : f * hop + len(hit)]
            seg += hit[: len(seg)]

    audio = out[: n_frames * hop] * MASTER_GAIN
    peak = np.abs(audio).max()
    if peak > 0.99:
        audio = audio * (0.99 / peak)
    return audio.astype(np.float32)


def render(codes: torch.Tensor) -> np.ndarray:
    """``(B, K, T)`` codes -> ``(B, samples)`` audio: the organism's codec."""
    codes = torch.as_tensor(codes)
    if codes.dim() == 2:
        codes = codes[None]
    return np.stack([render_clip(c) for c in codes])
