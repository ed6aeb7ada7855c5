"""Exact concept detectors and the world's grammar, read from codes.

Each detector gives a score (an interpretable rate or level) and a yes/no by a
fixed threshold halfway between the world's two poles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import InputError
from . import vocab as V


@dataclass(frozen=True)
class Detector:
    """Score function ``(B, K, T) -> (B,)`` and the threshold above which the concept is present."""

    score: Callable[[torch.Tensor], torch.Tensor]
    threshold: float
    unit: str


def _as_batch(codes: torch.Tensor) -> torch.Tensor:
    codes = torch.as_tensor(codes)
    if codes.dim() == 2:
        codes = codes[None]
    if codes.dim() != 3 or codes.shape[1] != V.N_CODEBOOKS:
        raise InputError(f"organism codes must be (B, {V.N_CODEBOOKS}, T) or ({V.N_CODEBOOKS}, T), "
                         f"got shape {tuple(codes.shape)}")
    return codes.long()


def drum_rate(codes: torch.Tensor) -> torch.Tensor:
    """Fraction of frames holding a drum hit."""
    d = codes[:, V.DRUMS]
    return ((d >= 1) & (d < V.DRUM_MAX)).float().mean(-1)


def lead_onset_rate(codes: torch.Tensor) -> torch.Tensor:
    """Lead note onsets per second."""
    lead = codes[:, V.LEAD]
    onsets = ((lead >= 1) & (lead < V.LEAD_ONSET_MAX)).float().sum(-1)
    return onsets * V.FRAME_RATE / max(codes.shape[-1], 1)


def brightness_level(codes: torch.Tensor) -> torch.Tensor:
    """Mean brightness level (0..15) of the lead."""
    return (codes[:, V.BRIGHT].clamp(0, V.BRIGHT_MAX - 1) // V.BRIGHT_PHASES).float().mean(-1)


def bass_rate(codes: torch.Tensor) -> torch.Tensor:
    """Fraction of frames where the bass sounds (onset or sustain)."""
    b = codes[:, V.BASS]
    sounding = ((b >= 1) & (b < V.BASS_ONSET_MAX)) | ((b >= V.BASS_SUSTAIN) & (b < V.BASS_SUSTAIN + V.BASS_PITCHES))
    return sounding.float().mean(-1)


CONCEPT_DETECTORS: dict[str, Detector] = {
    "drums": Detector(drum_rate, 0.03, "hits per frame"),
    "tempo": Detector(lead_onset_rate, 3.6, "onsets per second"),
    "timbre": Detector(brightness_level, 7.5, "brightness level"),
    "bass": Detector(bass_rate, 0.5, "sounding fraction"),
}


def detect(codes: torch.Tensor, concept: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scores, present)`` for one concept over a batch of clips."""
    try:
        det = CONCEPT_DETECTORS[concept]
    except KeyError:
        raise InputError(f"unknown concept {concept!r}; known: {', '.join(CONCEPT_DETECTORS)}") from None
    scores = det.score(_as_batch(codes))
    return scores, (scores > det.threshold).long()


def detect_all(codes: torch.Tensor) -> dict[str, torch.Tensor]:
    """Yes/no per concept for each clip: ``{concept: (B,) long}``."""
    return {c: detect(codes, c)[1] for c in CONCEPT_DETECTORS}


def _voice_violations(tokens: torch.Tensor, onset_max: int, per_pitch: int, sustain: int,
                      n_pitches: int, silence_ok: bool, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-clip counts of tokens outside the voice's vocabulary and of sustains that do not continue
    the pitch sounding before them (after silence, or after another pitch), counted from frame ``start`` on."""
    is_onset = (tokens >= 1) & (tokens < onset_max)
    is_sustain = (tokens >= sustain) & (tokens < sustain + n_pitches)
    is_silence = tokens == 0
    allowed = is_onset | is_sustain | (is_silence if silence_ok else torch.zeros_like(is_onset))
    pitch = torch.where(is_onset, (tokens - 1) // per_pitch, torch.where(is_sustain, tokens - sustain, -1))
    prev_pitch = torch.cat([pitch[:, :1], pitch[:, :-1]], dim=1)
    bad_sustain = is_sustain & (prev_pitch != pitch)
    bad_sustain[:, 0] = False  # a clip with nothing before it may start mid-note
    return (~allowed)[:, start:].sum(-1), bad_sustain[:, start:].sum(-1)


def grammar_report(codes: torch.Tensor, start: int = 0) -> dict[str, torch.Tensor]:
    """Per-clip violations of the world's grammar by kind: ``lead_token``, ``lead_sustain``,
    ``bass_token``, ``bass_sustain`` (a sustain with no onset of its pitch before it), ``drums``,
    ``brightness`` (tokens outside their codebook's vocabulary).

    Violations are counted from frame ``start`` on; the frames before it are context. Pass a continuation
    with its prompt and ``start`` = the prompt's length: a continuation that opens on a sustain must continue
    the note the prompt ends on (judged on the continuation alone, its first sustain would be forgiven)."""
    codes = _as_batch(codes)
    if not 0 <= start < codes.shape[-1]:
        raise InputError(f"start must be in [0, {codes.shape[-1]}) for codes of {codes.shape[-1]} frames, got {start}")
    lead_token, lead_sustain = _voice_violations(codes[:, V.LEAD], V.LEAD_ONSET_MAX, V.LEAD_VELOCITIES,
                                                 V.LEAD_SUSTAIN, V.LEAD_PITCHES, silence_ok=False, start=start)
    bass_token, bass_sustain = _voice_violations(codes[:, V.BASS], V.BASS_ONSET_MAX, V.BASS_VELOCITIES,
                                                 V.BASS_SUSTAIN, V.BASS_PITCHES, silence_ok=True, start=start)
    return {"lead_token": lead_token, "lead_sustain": lead_sustain, "bass_token": bass_token,
            "bass_sustain": bass_sustain, "drums": (codes[:, V.DRUMS, start:] >= V.DRUM_MAX).sum(-1),
            "brightness": (codes[:, V.BRIGHT, start:] >= V.BRIGHT_MAX).sum(-1)}


def grammar_violations(codes: torch.Tensor, start: int = 0) -> torch.Tensor:
    """Per-clip number of frames from ``start`` on that break the world's grammar (the sum of
    :func:`grammar_report`)."""
    return torch.stack(list(grammar_report(codes, start).values())).sum(0)


def world_validity(codes: torch.Tensor, start: int = 0) -> torch.Tensor:
    """Per-clip 1 when the codes from frame ``start`` on obey the world's grammar (earlier frames are context),
    else 0."""
    return (grammar_violations(codes, start) == 0).long()
