"""Perturbed world clips for the organism CLAP: voices the world would not write, labelled by the exact detectors.

A CLAP trained on world clips alone learns the world's own lines: its bass
figure, its note lengths, its drum patterns. Steered generations leave that
distribution (a steered bass is not the world's bass line), and such a CLAP
then under-hears what the detectors count. Here a clip keeps its nuisance but
has voices rewritten at random, over the whole clip so that every window of
it carries the same rates:

* bass: a random line (random pitches, note lengths and rests), or none;
* drums: random hits at a random density, or none;
* lead: the clip's own pitches and velocities re-timed to random note lengths
  (so its onset rate, the tempo detector's reading, spans both sides of the
  threshold), with the brightness phases following the new onsets; in half of
  the re-timed leads a random share of the notes starts *held*, a new pitch
  with no onset, as a steered model writes when it breaks the grammar;
* brightness: every level shifted by a random offset.

Every other rewritten line obeys the grammar (a note opens on an onset). A
held note sounds without an attack (the synthesizer fades it in) and the tempo
detector does not count it, so a lead whose pitch changes often but whose
onsets are few is labelled slow: without such clips the CLAP never hears a
held tone in training and takes the pitch changes of a steered, broken lead
for fast notes. A perturbed clip's labels come from the detectors and the
dynamics judge, not from its latents; mode is left unknown once the bass or
the lead is rewritten (it is heard only as the bass against the melody of the
world).
"""

from __future__ import annotations

import numpy as np
import torch

from . import vocab as V
from .clap_data import ATTRIBUTES, UNKNOWN, clip_labels
from .detectors import detect
from .judges import LOUD_THRESHOLD, DynamicsJudge
from .world import Clip

VOICES = ("bass", "drums", "lead", "brightness")
P_VOICE = 0.4  # each voice of a perturbed clip is rewritten with this probability (at least one is)
P_HELD_LINE = 0.5  # share of re-timed leads in which notes may start held (a new pitch with no onset)
HELD_SHARE = (0.2, 0.9)  # in such a lead, each note after the first starts held with a probability drawn here


def _line(n_frames: int, rng: np.random.Generator, mean_len: float, p_rest: float, pitches: np.ndarray,
          velocities: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(start, end, pitch, velocity) notes filling ``n_frames``: lengths around ``mean_len`` frames, each note
    preceded by a rest with probability ``p_rest``; pitch and velocity drawn from the given values."""
    notes, f = [], 0
    while f < n_frames:
        if rng.random() < p_rest:
            f += int(rng.integers(2, max(3, int(2 * mean_len))))
            continue
        length = max(1, int(round(rng.uniform(0.5, 1.5) * mean_len)))
        notes.append((f, min(f + length, n_frames), int(rng.choice(pitches)), int(rng.choice(velocities))))
        f += length
    return [n for n in notes if n[0] < n_frames]


def random_bass(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """A bass codebook row: silence, or a random line whose sounding fraction spans 0..1."""
    out = np.zeros(n_frames, dtype=np.int64)
    if rng.random() < 0.2:
        return out
    lo = int(rng.integers(0, V.BASS_PITCHES - 6))
    line = _line(n_frames, rng, mean_len=float(rng.uniform(4, 40)), p_rest=float(rng.uniform(0, 0.8)),
                 pitches=np.arange(lo, lo + 7), velocities=np.arange(V.BASS_VELOCITIES))
    for start, end, pitch, vel in line:
        out[start] = V.bass_onset(pitch, vel)
        out[start + 1:end] = V.bass_sustain(pitch)
    return out


def random_drums(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """A drums codebook row: silence, or random hits at a density of 0..0.25 per frame."""
    out = np.zeros(n_frames, dtype=np.int64)
    if rng.random() < 0.2:
        return out
    hits = np.flatnonzero(rng.random(n_frames) < rng.uniform(0.0, 0.25))
    for f in hits:
        out[f] = V.drum_hit(int(rng.integers(len(V.DRUM_INSTRUMENTS))), int(rng.integers(V.DRUM_VELOCITIES)),
                            int(rng.integers(V.DRUM_VARIANTS)))
    return out


def retimed_lead(lead: np.ndarray, bright: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The lead re-timed to random note lengths (3..40 frames: 1.25..16 notes a second) with the clip's own
    pitches and velocities, and the brightness row with its levels kept and its phases following the new onsets.
    With probability :data:`P_HELD_LINE` each note after the first starts held (its pitch's sustain, no onset)
    with a probability drawn from :data:`HELD_SHARE`; a held note does not restart the brightness phase."""
    onsets = lead[(lead >= 1) & (lead < V.LEAD_ONSET_MAX)] - 1
    pitches = np.unique(onsets // V.LEAD_VELOCITIES) if len(onsets) else np.array([12])
    velocities = onsets % V.LEAD_VELOCITIES if len(onsets) else np.array([1])
    mean_len = float(np.exp(rng.uniform(np.log(3), np.log(40))))
    held_share = float(rng.uniform(*HELD_SHARE)) if rng.random() < P_HELD_LINE else 0.0
    new_lead = np.zeros_like(lead)
    new_bright = bright.copy()
    levels = np.clip(bright, 0, V.BRIGHT_MAX - 1) // V.BRIGHT_PHASES
    phase_start = 0
    for i, (start, end, pitch, vel) in enumerate(_line(len(lead), rng, mean_len, 0.0, pitches, velocities)):
        held = i > 0 and rng.random() < held_share
        new_lead[start] = V.lead_sustain(pitch) if held else V.lead_onset(pitch, vel)
        new_lead[start + 1:end] = V.lead_sustain(pitch)
        phase_start = phase_start if held else start
        for f in range(start, end):
            new_bright[f] = V.bright_token(int(levels[f]), f - phase_start)
    return new_lead, new_bright


def shifted_brightness(bright: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every brightness level moved by one random offset in -10..10 (clipped to the 16 levels), phases kept."""
    offset = int(rng.integers(-10, 11))
    level = np.clip(np.clip(bright, 0, V.BRIGHT_MAX - 1) // V.BRIGHT_PHASES + offset, 0, V.BRIGHT_LEVELS - 1)
    return level * V.BRIGHT_PHASES + np.clip(bright, 0, V.BRIGHT_MAX - 1) % V.BRIGHT_PHASES


def perturb_codes(codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, set[str]]:
    """``(K, T)`` codes with at least one voice rewritten, and the names of the voices rewritten."""
    out = np.array(codes, dtype=np.int64, copy=True)
    touched = {v for v in VOICES if rng.random() < P_VOICE} or {VOICES[int(rng.integers(len(VOICES)))]}
    n = out.shape[-1]
    if "lead" in touched:
        out[V.LEAD], out[V.BRIGHT] = retimed_lead(out[V.LEAD], out[V.BRIGHT], rng)
    if "brightness" in touched:
        out[V.BRIGHT] = shifted_brightness(out[V.BRIGHT], rng)
    if "bass" in touched:
        out[V.BASS] = random_bass(n, rng)
    if "drums" in touched:
        out[V.DRUMS] = random_drums(n, rng)
    return out, touched


def detector_labels(codes: torch.Tensor) -> np.ndarray:
    """``(B, 6)`` int8 labels in :data:`~musicinterp.organism.clap_data.ATTRIBUTES` order read from codes: the
    concept detectors, the dynamics judge; mode unknown (set it where the world's bass and lead are intact)."""
    cols = [detect(codes, c)[1].numpy() for c in ATTRIBUTES[:4]]
    cols.append((DynamicsJudge().score_codes(codes) > LOUD_THRESHOLD).astype(np.int64))
    cols.append(np.full(len(codes), UNKNOWN))
    return np.stack(cols, axis=1).astype(np.int8)


def perturbed_clip(clip: Clip, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(codes (K, T), labels (6,))`` of ``clip`` with voices rewritten; mode kept from the latents only when
    neither the bass nor the lead was rewritten."""
    codes, touched = perturb_codes(clip.codes.numpy(), rng)
    labels = detector_labels(torch.from_numpy(codes)[None])[0]
    if not touched & {"bass", "lead"}:
        labels[ATTRIBUTES.index("mode")] = clip_labels(clip)[ATTRIBUTES.index("mode")]
    return codes, labels
