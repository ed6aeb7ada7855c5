"""Frame policies: which decoder positions of a teacher-forced clip are read.

Positions index the delayed decoder sequence of ``T + K`` steps. The *valid*
positions ``K .. T`` are those where every codebook holds a real code (the
delay pattern's leading and trailing pads are excluded).
"""

from __future__ import annotations

import torch

from ..errors import InputError
from ..models.delay import delayed_length, valid_positions

FrameSpec = str | tuple[int, int]


def select_positions(spec: FrameSpec, n_frames: int, n_codebooks: int) -> torch.Tensor:
    """Indices of the positions ``spec`` selects.

    ``"all"``: every position; ``"valid"``: the valid positions; ``"last"``: the
    last valid position; ``(a, b)``: valid positions ``K+a .. K+b-1`` (a window in
    frames from the first valid one).
    """
    valid = valid_positions(n_frames, n_codebooks)
    if spec == "all":
        return torch.arange(delayed_length(n_frames, n_codebooks))
    if len(valid) == 0:
        raise InputError(f"a clip of {n_frames} frames has no valid positions with {n_codebooks} codebooks "
                         f"(needs at least {n_codebooks} frames)")
    if spec == "valid":
        return torch.arange(valid.start, valid.stop)
    if spec == "last":
        return torch.tensor([valid.stop - 1])
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        a, b = int(spec[0]), int(spec[1])
        if a < 0 or b <= a or valid.start + b > valid.stop:
            raise InputError(f"frame window {spec} outside the {len(valid)} valid positions (start < stop, "
                             f"both within 0..{len(valid)})")
        return torch.arange(valid.start + a, valid.start + b)
    raise InputError(f"unknown frame spec {spec!r}: use 'all', 'valid', 'last' or (start, stop)")
