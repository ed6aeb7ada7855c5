"""Fidelity of steered generations for any model: NLL under the unsteered model, token-distribution distance.

NLL says how likely the unsteered model finds the steered codes (a steer that
breaks the music raises it); the token distance says how far the steered
generations' code usage drifts from the unsteered generations of the same task
(per codebook, the Jensen-Shannon divergence of code histograms, in bits, 0..1).
Where the model's world has a grammar (the organism's), it adds a validity rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..engine.likelihood import nll_under
from ..errors import InputError
from ..models.musicgen import Conditioning, MusicGen
from ..models.sources import world_of


def code_histograms(codes: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """``(K, V)`` relative frequency of every code per codebook over a batch ``(B, K, T)``."""
    codes = torch.as_tensor(codes).long()
    if codes.dim() != 3:
        raise InputError(f"codes must be (B, K, T), got shape {tuple(codes.shape)}")
    if codes.numel() and (codes.min() < 0 or codes.max() >= codebook_size):
        raise InputError(f"codes must lie in 0..{codebook_size - 1}, got {int(codes.min())}..{int(codes.max())}")
    k = codes.shape[1]
    flat = codes.transpose(0, 1).reshape(k, -1)
    counts = torch.zeros(k, codebook_size, dtype=torch.float64).scatter_add_(1, flat, torch.ones_like(flat).double())
    return counts / counts.sum(1, keepdim=True).clamp_min(1)


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence (bits) between distributions along the last axis."""
    m = (p + q) / 2

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ratio = torch.where(a > 0, a / b.clamp_min(1e-300), torch.ones_like(a))
        return (a * torch.log2(ratio)).sum(-1)

    return (kl(p, m) + kl(q, m)) / 2


def token_distance(codes: torch.Tensor, reference: torch.Tensor, codebook_size: int) -> float:
    """Mean over codebooks of the JS divergence between code histograms of ``codes`` and ``reference``."""
    if torch.as_tensor(codes).shape[1] != torch.as_tensor(reference).shape[1]:
        raise InputError("codes and reference must have the same number of codebooks")
    return float(js_divergence(code_histograms(codes, codebook_size),
                               code_histograms(reference, codebook_size)).mean())


@dataclass
class Fidelity:
    """Mean NLL (nats/token) of the generated frames under the unsteered model, token distance, validity."""

    nll: float
    token_distance: float
    validity: float | None = None
    valid: torch.Tensor | None = field(default=None, repr=False)  # per clip, where the world has a grammar


def fidelity(model: MusicGen, codes: torch.Tensor, reference: torch.Tensor, *, prompt_frames: int = 0,
             cond: Conditioning | None = None) -> Fidelity:
    """Fidelity of ``codes`` (prompt included) against the unsteered model and its generations ``reference``.

    ``model`` must carry no active steerer: its likelihood is the unsteered one.
    """
    if list(model.steering):
        raise InputError("model has active steerers: fidelity is measured under the unsteered model")
    nll = float(nll_under(model, codes, cond, prompt_frames).mean())
    dist = token_distance(codes[..., prompt_frames:], reference[..., prompt_frames:], model.codebook_size)
    valid = world_of(model).validity(codes, start=prompt_frames)  # the prompt is context: see grammar_report
    validity = None if valid is None else float(valid.float().mean())
    return Fidelity(nll, dist, validity, valid)
