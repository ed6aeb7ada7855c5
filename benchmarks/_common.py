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


def plain_generate(model, input_ids: torch.Tensor, steps: int, guidance_scale: float = 3.0, top_k: int = 250) -> None:
    """The baseline a user would otherwise run: Hugging Face ``generate`` on the bare model."""
    torch.manual_seed(0)
    model.hf.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=steps,
                      min_new_tokens=steps, guidance_scale=guidance_scale, do_sample=True, top_k=top_k)
