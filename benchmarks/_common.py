"""Shared helpers for the benchmark scripts (timing, JSON last line)."""

from __future__ import annotations

import json
import statistics
from typing import Any

import torch


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()




def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def print_json(figures: dict[str, Any]) -> None:
    """The contract: figures as JSON on the last line of output."""
    print(json.dumps(figures))
