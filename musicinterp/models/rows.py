"""Which decoder rows an edit touches under classifier-free guidance.

With CFG the decoder batch is doubled: rows ``[0:B]`` are conditional and
``[B:2B]`` unconditional. Without CFG every row is conditional.
"""

from __future__ import annotations

from typing import Literal

from ..errors import InputError

Rows = Literal["cond", "uncond", "both"]
ROWS: tuple[str, ...] = ("cond", "uncond", "both")


def row_slice(rows: str, batch: int, cfg: bool) -> slice:
    """Slice of the decoder batch addressed by ``rows`` for a prompt batch of ``batch``."""
    if rows not in ROWS:
        raise InputError(f"rows must be one of {ROWS}, got {rows!r}")
    if not cfg:
        if rows == "uncond":
            return slice(0, 0)  # no unconditional rows without guidance
        return slice(0, batch)
    if rows == "cond":
        return slice(0, batch)
    if rows == "uncond":
        return slice(batch, 2 * batch)
    return slice(0, 2 * batch)
