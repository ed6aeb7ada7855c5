"""The random-direction control: the same edit, at the same sites, rows, steps and norms, along a random direction.

A control is a copy of a fitted steerer whose direction vectors are replaced by
Gaussian draws rescaled to each original vector's norm (per head for ITI and
SMITIN, per layer for difference-in-means and the regression probe, per
decoder column for SAE ``add``). Everything else is kept: strengths, sigma,
SMITIN's head weights and monitor (so its schedule follows the same rule), the
apply spec. It answers "does this direction do more than any edit of this
size?": its success is what an edit of that size achieves by chance, its
collateral what any such edit disturbs (Shivesh, ISMIR 2026).
"""

from __future__ import annotations

import dataclasses

import torch

from .base import Steerer
from .configs import SteererConfigError

# the tensor holding each method's directions, and the dimension its vectors lie along
DIRECTION_TENSORS: dict[str, tuple[str, int]] = {
    "iti": ("directions", -1),
    "smitin": ("directions", -1),
    "diffmeans": ("v", -1),
    "regression": ("w", -1),
    "sae": ("sae.decoder.weight", 0),
}
CONTROL_MARK = "~random"


def direction_tensor(steerer: Steerer) -> tuple[str, int]:
    """The tensor the steerer's edit reads its directions from, and the dimension its vectors lie along (an SAE
    steerer with a keep-set edits along its projected rows, ``steer_dirs``, not the decoder's)."""
    if steerer.method == "sae" and "steer_dirs" in steerer.tensors:
        return "steer_dirs", -1
    return DIRECTION_TENSORS[steerer.method]


def has_control(steerer: Steerer) -> bool:
    """Whether ``steerer`` edits along directions a random control can replace."""
    if steerer.method not in DIRECTION_TENSORS:
        return False
    return steerer.method != "sae" or (steerer.config.mode == "add" and steerer.config.when == "always")


def random_control(steerer: Steerer, seed: int = 0) -> Steerer:
    """A copy of ``steerer`` whose directions are random, each with its original vector's norm (fixed ``seed``)."""
    if not has_control(steerer):
        raise SteererConfigError(f"{steerer.method} steerer for {steerer.concept!r} has no random-direction control "
                                 f"(controls exist for {', '.join(DIRECTION_TENSORS)}; SAE in mode add, always)")
    key, dim = direction_tensor(steerer)
    original = steerer.tensors[key]
    draw = torch.randn(original.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    scale = original.double().norm(dim=dim, keepdim=True) / draw.norm(dim=dim, keepdim=True).clamp_min(1e-12)
    tensors = {**steerer.tensors, key: (draw * scale).to(original.dtype)}
    meta = {**steerer.meta, "control": {"of": steerer.method, "seed": seed, "tensor": key}}
    return dataclasses.replace(steerer, tensors=tensors, meta=meta)


def controls(steerers: dict[str, Steerer], draws: int, seed: int = 0) -> dict[str, Steerer]:
    """``draws`` random-direction controls of every steerer that has one, named ``"<name>~random<i>"``."""
    return {f"{name}{CONTROL_MARK}{i}": random_control(s, seed + 1000 * i)
            for name, s in steerers.items() if has_control(s) for i in range(draws)}


def control_of(name: str) -> str | None:
    """The method a control row belongs to (``"iti~random2"`` -> ``"iti"``), ``None`` for a method's own row."""
    return name.split(CONTROL_MARK, 1)[0] if CONTROL_MARK in name else None
