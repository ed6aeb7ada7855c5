"""How docs/results.md writes numbers: three significant digits, rates with their Wilson intervals, markdown tables."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from musicinterp.compare.intervals import wilson


def fmt(v: Any) -> str:
    """Numbers with three significant digits (integers as they are), intervals as ``v [lo, hi]``."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict) and {"value", "low", "high"} <= set(v):
        return f"{fmt(v['value'])} [{fmt(v['low'])}, {fmt(v['high'])}]"
    return str(v)


def rate(p: float, n: int) -> str:
    """A rate (a fraction) of ``n`` draws as a percentage with its 95% Wilson interval (the comparisons' own)."""
    if n <= 0:
        return "n/a"
    k = round(p * n)
    phat, lo, hi = wilson(np.r_[np.ones(k), np.zeros(n - k)])
    return f"{100 * phat:.0f}% [{100 * lo:.0f}%, {100 * hi:.0f}%]"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def flat(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Scalar leaves (and intervals) of nested JSON as (dotted key, value)."""
    if isinstance(data, dict) and not ({"value", "low", "high"} <= set(data)):
        out = []
        for k, v in data.items():
            if not str(k).startswith("_"):
                out += flat(v, f"{prefix}{k}.")
        return out
    if isinstance(data, list):
        return [(prefix[:-1], data)] if len(json.dumps(data)) < 80 else []
    return [(prefix[:-1], data)]


def ci(cell: dict, key: str) -> str:
    if cell.get(key) is None:
        return ""
    lo, hi = cell.get(f"{key}_lo"), cell.get(f"{key}_hi")
    return f"{cell[key]:.2f}" + ("" if lo is None else f" [{lo:.2f}, {hi:.2f}]")


def join_and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"
