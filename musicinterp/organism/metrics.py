"""Organism metrics of generated codes: concept rates, validity, NLL, and continuation checks."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..engine.likelihood import nll_under
from ..errors import InputError
from ..models.musicgen import Conditioning, MusicGen
from .continuity import OrganismKeyKept, OrganismTempoKept


@dataclass
class OrganismMetrics:
    """Rates per concept on the generated part, validity, NLL; continuation checks when a prompt was given."""

    rates: dict[str, float]
    validity: float
    nll: float
    key_kept: float | None = None
    tempo_kept: float | None = None


def organism_metrics(reference: MusicGen, codes: torch.Tensor, prompt_frames: int = 0,
                     cond: Conditioning | None = None) -> OrganismMetrics:
    """Detectors, validity and NLL (under ``reference``, the unsteered model) for organism generations."""
    from .detectors import detect_all, world_validity

    if list(reference.steering):
        raise InputError("reference has active steerers: organism_metrics measures NLL under the unsteered model")
    gen = codes[..., prompt_frames:]
    rates = {c: float(v.float().mean()) for c, v in detect_all(gen).items()}
    metrics = OrganismMetrics(rates=rates, validity=float(world_validity(codes, prompt_frames).float().mean()),
                              nll=float(nll_under(reference, codes, cond, prompt_frames).mean()))
    if prompt_frames:  # the comparison's continuity judges: one definition of "key kept" and "tempo kept"
        before, after = codes[..., :prompt_frames], gen
        metrics.key_kept = OrganismKeyKept()(before, after).rate
        metrics.tempo_kept = OrganismTempoKept()(before, after).rate
    return metrics
