"""Numbers as a reader wants them: significant digits chosen per quantity, never 17-digit floats.

A column (or a heatmap) is one quantity, so it gets one number of decimals: enough
for its largest magnitude to show ``digits`` significant digits. Rates and
accuracies (names such as ``success``, ``collateral``, ``accuracy``) are shown with
two decimals; strengths and counts as the shortest exact text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

RATE_WORDS = ("success", "collateral", "validity", "accuracy", "auc", "rate", "kept", "fve", "score", "density")


def decimals_for(values: Iterable[Any], digits: int = 3, max_decimals: int = 6) -> int:
    """Decimals that give the largest finite magnitude of ``values`` ``digits`` significant digits."""
    mags = [abs(float(v)) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(float(v)) and v != 0]
    if not mags:
        return 0
    top = math.floor(math.log10(max(mags)))
    return int(min(max(digits - 1 - top, 0), max_decimals))


def fmt(value: Any, decimals: int | None = None, digits: int = 3) -> str:
    """One number as text: fixed ``decimals`` when given, else ``digits`` significant digits."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return "" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(value, int) and decimals is None:
        return str(value)
    if decimals is None:
        decimals = decimals_for([v], digits)
    text = f"{v:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def column_decimals(name: str, values: Iterable[Any]) -> int | None:
    """Decimals for a table column: rates get 2, other floats ``decimals_for``; integers/strings None."""
    values = list(values)
    floats = [v for v in values if isinstance(v, float)]
    if not floats:
        return None
    lowered = name.lower()
    if any(word in lowered for word in RATE_WORDS) and all(abs(v) <= 1.5 for v in floats if math.isfinite(v)):
        return 2
    if all(float(v).is_integer() for v in floats if math.isfinite(v)):
        return 0 if max((abs(v) for v in floats if math.isfinite(v)), default=0) >= 1 else None
    return decimals_for(floats, 3)


def heat_text(z: Any, digits: int = 2) -> list[list[str]]:
    """A heatmap's cell texts: one number of decimals for the whole matrix (``digits`` significant at the top)."""
    rows = [[None if v is None else float(v) for v in row] for row in z]
    decimals = decimals_for([v for row in rows for v in row if v is not None], digits)
    return [[fmt(v, decimals) for v in row] for row in rows]


def percent(value: float) -> str:
    """A rate as a whole percentage (``0.8125`` -> ``"81%"``)."""
    return f"{100 * float(value):.0f}%"


def interval(lo: Any, hi: Any, decimals: int = 2) -> str:
    """``[lo, hi]`` with shared decimals; empty when either end is missing."""
    if lo is None or hi is None:
        return ""
    return f"[{fmt(lo, decimals)}, {fmt(hi, decimals)}]"
