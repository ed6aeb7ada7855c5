"""Organism metrics of generated codes: concept rates, validity, NLL, and continuation checks."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..engine.likelihood import nll_under
from ..models.musicgen import Conditioning, MusicGen


@dataclass
class OrganismMetrics:
    """Rates per concept on the generated part, validity, NLL; continuation checks when a prompt was given."""

    rates: dict[str, float]
    validity: float
    nll: float
    key_kept: float | None = None
    tempo_kept: float | None = None


def lead_pitch_classes(codes: torch.Tensor) -> list[set[int]]:
    """Pitch classes the lead plays, per clip."""
    from ..organism import vocab as V

    lead = codes[:, V.LEAD]
    out = []
    for row in lead:
        onsets = row[(row >= 1) & (row < V.LEAD_ONSET_MAX)]
        out.append({int((V.LEAD_LOW_MIDI + (t - 1) // V.LEAD_VELOCITIES) % 12) for t in onsets.tolist()})
    return out


def _same_key(prompt_pcs: set[int], generated_pcs: set[int]) -> bool:
    """Whether some major/minor scale holds both the prompt's and the generated lead's pitch classes."""
    from ..organism.world import MAJOR, MINOR

    for root in range(12):
        for mode in (MAJOR, MINOR):
            scale = {(root + i) % 12 for i in mode}
            if prompt_pcs <= scale and generated_pcs <= scale:
                return True
    return False


def organism_metrics(reference: MusicGen, codes: torch.Tensor, prompt_frames: int = 0,
                     cond: Conditioning | None = None) -> OrganismMetrics:
    """Detectors, validity and NLL (under ``reference``, the unsteered model) for organism generations."""
    from ..organism import detect_all, world_validity

    gen = codes[..., prompt_frames:]
    rates = {c: float(v.float().mean()) for c, v in detect_all(gen).items()}
    metrics = OrganismMetrics(rates=rates, validity=float(world_validity(gen).float().mean()),
                              nll=float(nll_under(reference, codes, cond, prompt_frames).mean()))
    if prompt_frames:
        before, after = codes[..., :prompt_frames], gen
        pcs_before, pcs_after = lead_pitch_classes(before), lead_pitch_classes(after)
        in_key = [_same_key(b, a) for b, a in zip(pcs_before, pcs_after, strict=True)]
        metrics.key_kept = float(torch.tensor(in_key, dtype=torch.float).mean())
        t_before = detect_all(before)["tempo"]
        t_after = detect_all(after)["tempo"]
        metrics.tempo_kept = float((t_before == t_after).float().mean())
    return metrics
