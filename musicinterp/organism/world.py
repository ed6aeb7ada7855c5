"""The procedural music world: a seeded sampler of code sequences with known latents.

Binary concepts (``drums``, ``tempo`` fast/slow, ``timbre`` bright/dark,
``bass``) are planted; key, melody, drum pattern, dynamics and progression
are nuisance. A clip keeps its latents and its nuisance, so the same clip can
be rewritten with one concept flipped (paired sets, as SMITIN built from stems).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from . import vocab as V
from .seam import OrganismSeam

CONCEPTS: tuple[str, ...] = ("drums", "tempo", "timbre", "bass")
# word for the positive / negative pole of each concept (positive = latent 1)
CONCEPT_WORDS: dict[str, tuple[str, str]] = {
    "drums": ("drums", "no drums"),
    "tempo": ("fast", "slow"),
    "timbre": ("bright", "dark"),
    "bass": ("bass", "no bass"),
}
NOTE_FRAMES = {1: 8, 0: 16}  # tempo fast / slow: frames per lead note
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# drum patterns over 8 sub-steps (half a lead note each): lists of instruments per sub-step
DRUM_PATTERNS: tuple[tuple[tuple[int, ...], ...], ...] = (
    ((0, 2), (2,), (1, 2), (2,), (0, 2), (2,), (1, 2), (2,)),       # rock
    ((0,), (2,), (1,), (0, 2), (0,), (2,), (1,), (3,)),             # syncopated
    ((0, 2), (), (2,), (0,), (1, 2), (), (2,), ()),                 # half-time
    ((0, 3), (2,), (1, 2), (2,), (0, 2), (0, 2), (1, 3), (2,)),     # busy
    ((0,), (2,), (2,), (2,), (1,), (2,), (2,), (2,)),               # four-on-hats
    ((0, 2), (2,), (0, 2), (1,), (2,), (0, 2), (1, 2), (3,)),       # broken
)
PROGRESSIONS = ((0, 5, 7, 0), (0, 9, 5, 7), (0, 7, 9, 5), (0, 5, 0, 7))


@dataclass(frozen=True)
class Latents:
    """The planted binary concepts (1 = drums on / fast / bright / bass on)."""

    drums: int
    tempo: int
    timbre: int
    bass: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Nuisance:
    """Everything that varies but is not a concept; drawn from one seed."""

    seed: int
    key: int
    minor: bool
    pattern: int
    progression: int
    dynamics: int  # 0..2, shifts velocities
    brightness_offset: int  # 0..3 within the bright/dark band
    octave_shift: int  # 0..1 for the lead


@dataclass
class Clip:
    """A clip of codes ``(K, T)`` with its latents and nuisance."""

    codes: torch.Tensor
    latents: Latents
    nuisance: Nuisance

    @property
    def n_frames(self) -> int:
        return int(self.codes.shape[-1])


class OrganismWorld(OrganismSeam):
    """The organism's world: a seeded sampler of clips (``sample`` draws latents and nuisance; ``render_codes``
    is deterministic) and, through :class:`~musicinterp.organism.seam.OrganismSeam`, its exact judges,
    grammar and tasks."""

    concepts = CONCEPTS

    def __init__(self, n_frames: int = 200) -> None:
        self.n_frames = n_frames

    # ------------------------------------------------------------- sampling
    @staticmethod
    def draw_latents(rng: np.random.Generator) -> Latents:
        return Latents(*(int(x) for x in rng.integers(0, 2, size=4)))

    @staticmethod
    def draw_nuisance(seed: int) -> Nuisance:
        rng = np.random.default_rng(seed)
        return Nuisance(seed=seed, key=int(rng.integers(12)), minor=bool(rng.integers(2)),
                        pattern=int(rng.integers(len(DRUM_PATTERNS))), progression=int(rng.integers(len(PROGRESSIONS))),
                        dynamics=int(rng.integers(3)), brightness_offset=int(rng.integers(4)),
                        octave_shift=int(rng.integers(2)))

    def sample(self, seed: int, latents: Latents | None = None, n_frames: int | None = None) -> Clip:
        """One clip from ``seed``; ``latents`` fixes the concepts (nuisance still from the seed)."""
        rng = np.random.default_rng([seed, 1])
        lat = latents if latents is not None else self.draw_latents(rng)
        nui = self.draw_nuisance(seed)
        return Clip(self.render_codes(lat, nui, n_frames or self.n_frames), lat, nui)

    def with_concept(self, clip: Clip, concept: str, value: int) -> Clip:
        """The same clip (same nuisance) with one concept set to ``value``."""
        lat = replace(clip.latents, **{concept: int(value)})
        return Clip(self.render_codes(lat, clip.nuisance, clip.n_frames), lat, clip.nuisance)

    def batch(self, seeds: list[int] | range, n_frames: int | None = None) -> tuple[torch.Tensor, list[Clip]]:
        clips = [self.sample(int(s), n_frames=n_frames) for s in seeds]
        return torch.stack([c.codes for c in clips]), clips

    # -------------------------------------------------------------- writing
    def render_codes(self, lat: Latents, nui: Nuisance, n_frames: int) -> torch.Tensor:
        """Write the four codebooks for latents + nuisance. Deterministic."""
        rng = np.random.default_rng([nui.seed, 2])
        note = NOTE_FRAMES[lat.tempo]
        scale = MINOR if nui.minor else MAJOR
        codes = np.zeros((V.N_CODEBOOKS, n_frames), dtype=np.int64)
        vel_base = nui.dynamics

        # lead melody: a random walk on the scale, one note per `note` frames, some held twice
        degree = int(rng.integers(0, 7))
        lead_pitches: list[int] = []
        t = 0
        onset_times: list[int] = []
        while t < n_frames:
            degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), -3, 12))
            octave, step = divmod(degree, 7)
            midi = 60 + nui.key + 12 * octave + scale[step] + 12 * nui.octave_shift - 5
            pitch = int(np.clip(midi - V.LEAD_LOW_MIDI, 0, V.LEAD_PITCHES - 1))
            length = note * (2 if rng.random() < 0.15 else 1)
            vel = int(np.clip(vel_base + rng.integers(-1, 2), 0, V.LEAD_VELOCITIES - 1))
            end = min(t + length, n_frames)
            codes[V.LEAD, t] = V.lead_onset(pitch, vel)
            codes[V.LEAD, t + 1 : end] = V.lead_sustain(pitch)
            onset_times.append(t)
            lead_pitches.append(pitch)
            t = end

        # brightness follows the lead's envelope phase; the level band is the concept
        band = 10 if lat.timbre else 1
        last_onset = 0
        onsets = set(onset_times)
        for f in range(n_frames):
            if f in onsets:
                last_onset = f
            level = band + nui.brightness_offset + int(rng.integers(0, 2))
            codes[V.BRIGHT, f] = V.bright_token(min(level, V.BRIGHT_LEVELS - 1), f - last_onset)

        if lat.drums:
            _write_drums(codes, nui, note, rng)
        if lat.bass:
            _write_bass(codes, nui, note)
        return torch.from_numpy(codes)


def _write_drums(codes: np.ndarray, nui: Nuisance, note: int, rng: np.random.Generator) -> None:
    """Drums: the nuisance's pattern on a grid of half lead notes, accents every fourth step."""
    sub = note // 2
    pat = DRUM_PATTERNS[nui.pattern]
    for i, f in enumerate(range(0, codes.shape[1], sub)):
        hits = pat[i % len(pat)]
        if not hits:
            continue
        inst = hits[0] if len(hits) == 1 or rng.random() < 0.6 else hits[-1]
        accent = 1 if i % 4 == 0 else 0
        vel = int(np.clip(nui.dynamics + accent + rng.integers(0, 2), 0, V.DRUM_VELOCITIES - 1))
        codes[V.DRUMS, f] = V.drum_hit(inst, vel, int(rng.integers(V.DRUM_VARIANTS)))


def _write_bass(codes: np.ndarray, nui: Nuisance, note: int) -> None:
    """Bass: chord roots of the nuisance's progression, one note per two lead notes."""
    n_frames = codes.shape[1]
    prog = PROGRESSIONS[nui.progression]
    length = 2 * note
    for i, f in enumerate(range(0, n_frames, length)):
        midi = 36 + nui.key + prog[i % len(prog)] - (12 if nui.key + prog[i % len(prog)] > 11 else 0)
        pitch = int(np.clip(midi - V.BASS_LOW_MIDI, 0, V.BASS_PITCHES - 1))
        vel = int(np.clip((nui.dynamics + 1) // 2, 0, V.BASS_VELOCITIES - 1))
        end = min(f + length, n_frames)
        codes[V.BASS, f] = V.bass_onset(pitch, vel)
        codes[V.BASS, f + 1 : end] = V.bass_sustain(pitch)
