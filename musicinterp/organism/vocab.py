"""Token layout of the organism's four codebooks (each 256 codes; 256 is BOS/pad).

Codebook roles are fixed:

* 0 lead melody: onset tokens ``1 + pitch * 3 + velocity`` (36 pitches x 3 velocities)
  and sustain tokens ``SUSTAIN + pitch``; ``0`` is silence.
* 1 drums: ``0`` silence, hit tokens ``1 + (instrument * 4 + velocity) * 3 + variant``
  for 4 instruments (kick, snare, closed hat, open hat), 4 velocities, 3 variants.
* 2 lead brightness: ``level * 8 + phase`` with brightness level 0..15 and the
  phase (frames since the lead note's onset, capped at 7).
* 3 bass: ``0`` silence, onsets ``1 + pitch * 2 + velocity`` (24 pitches x 2) and
  sustains ``BASS_SUSTAIN + pitch``.
"""

from __future__ import annotations

CODEBOOK_SIZE = 256
N_CODEBOOKS = 4
FRAME_RATE = 50
SAMPLE_RATE = 32000
HOP = SAMPLE_RATE // FRAME_RATE  # 640 samples per frame

LEAD, DRUMS, BRIGHT, BASS = 0, 1, 2, 3

# lead
LEAD_PITCHES = 36  # MIDI 55..90
LEAD_LOW_MIDI = 55
LEAD_VELOCITIES = 3
LEAD_ONSET_MAX = 1 + LEAD_PITCHES * LEAD_VELOCITIES  # exclusive
LEAD_SUSTAIN = 128


def lead_onset(pitch: int, velocity: int) -> int:
    return 1 + pitch * LEAD_VELOCITIES + velocity


def lead_sustain(pitch: int) -> int:
    return LEAD_SUSTAIN + pitch


# drums
DRUM_INSTRUMENTS = ("kick", "snare", "hat", "open_hat")
DRUM_VELOCITIES = 4
DRUM_VARIANTS = 3
DRUM_MAX = 1 + len(DRUM_INSTRUMENTS) * DRUM_VELOCITIES * DRUM_VARIANTS  # exclusive


def drum_hit(instrument: int, velocity: int, variant: int) -> int:
    return 1 + (instrument * DRUM_VELOCITIES + velocity) * DRUM_VARIANTS + variant


def drum_parts(token: int) -> tuple[int, int, int]:
    """(instrument, velocity, variant) of a hit token."""
    idx = token - 1
    return idx // (DRUM_VELOCITIES * DRUM_VARIANTS), (idx // DRUM_VARIANTS) % DRUM_VELOCITIES, idx % DRUM_VARIANTS


# brightness
BRIGHT_LEVELS = 16
BRIGHT_PHASES = 8
BRIGHT_MAX = BRIGHT_LEVELS * BRIGHT_PHASES  # exclusive


def bright_token(level: int, phase: int) -> int:
    return level * BRIGHT_PHASES + min(phase, BRIGHT_PHASES - 1)


# bass
BASS_PITCHES = 24  # MIDI 28..51
BASS_LOW_MIDI = 28
BASS_VELOCITIES = 2
BASS_ONSET_MAX = 1 + BASS_PITCHES * BASS_VELOCITIES  # exclusive
BASS_SUSTAIN = 64


def bass_onset(pitch: int, velocity: int) -> int:
    return 1 + pitch * BASS_VELOCITIES + velocity


def bass_sustain(pitch: int) -> int:
    return BASS_SUSTAIN + pitch
