"""MusicGen's delay pattern: codebook k is shifted right by k steps.

Pure functions on code tensors so every other module can stay ignorant of the
pattern. Codes are ``(B, K, T)``; the delayed decoder sequence is
``(B, K, T + K)`` with a BOS/pad column first: position ``p`` of codebook ``k``
holds frame ``p - k - 1`` when that index lies in ``[0, T)`` and ``pad`` elsewhere.
"""

from __future__ import annotations

import torch

from ..errors import InputError


def apply_delay(codes: torch.Tensor, pad_id: int) -> torch.Tensor:
    """``(B, K, T)`` codes -> ``(B, K, T + K)`` delayed decoder input (BOS column included)."""
    if codes.dim() != 3:
        raise InputError(f"codes must be (B, K, T), got shape {tuple(codes.shape)}")
    b, k, t = codes.shape
    out = torch.full((b, k, t + k), pad_id, dtype=torch.long, device=codes.device)
    for cb in range(k):
        out[:, cb, cb + 1 : cb + 1 + t] = codes[:, cb]
    return out


def emit_step(codebook: int, frame: int) -> int:
    """The generation step that emits codebook ``codebook``'s token for generated frame ``frame`` (both counted
    from the continuation's start): the pattern puts it ``codebook`` steps after codebook 0's."""
    return frame + codebook


def undo_delay(delayed: torch.Tensor, n_codebooks: int | None = None) -> torch.Tensor:
    """``(B, K, S)`` delayed sequence (BOS column first) -> ``(B, K, S - K)`` codes."""
    if delayed.dim() != 3:
        raise InputError(f"delayed codes must be (B, K, S), got shape {tuple(delayed.shape)}")
    b, k, s = delayed.shape
    if n_codebooks is not None and k != n_codebooks:
        raise InputError(f"expected {n_codebooks} codebooks, got {k}")
    t = s - k
    if t < 0:
        raise InputError(f"delayed sequence of length {s} is shorter than the {k}-step delay")
    return torch.stack([delayed[:, cb, cb + 1 : cb + 1 + t] for cb in range(k)], dim=1)


def delayed_length(n_frames: int, n_codebooks: int) -> int:
    """Decoder positions of a teacher-forced clip of ``n_frames``: the BOS column plus ``T + K - 1``."""
    return n_frames + n_codebooks


def valid_positions(n_frames: int, n_codebooks: int) -> range:
    """Decoder positions where every codebook's input holds a real code (no delay pad).

    For ``T`` frames and ``K`` codebooks these are ``K .. T`` inclusive; empty when
    the clip is shorter than the delay.
    """
    return range(n_codebooks, n_frames + 1)


def frames_to_new_tokens(n_frames: int, n_codebooks: int) -> int:
    """Decoder steps needed to complete ``n_frames`` frames of every codebook."""
    return n_frames + n_codebooks - 1


def teacher_forcing(codes: torch.Tensor, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-code training layout: decoder inputs ``(B*K, T+K-1)`` and targets ``(B, K, T+K-1)`` (pad = no loss)."""
    delayed = apply_delay(codes, pad_id)  # (B, K, T+K)
    inputs, targets = delayed[..., :-1], delayed[..., 1:]
    b, k, s = inputs.shape
    return inputs.reshape(b * k, s), targets
