"""Grouped settings of :func:`~musicinterp.engine.generation.generate`: what it starts from, how it samples.

``generate(model, text="a", seed=0)`` still works: each loose keyword is a field
of :class:`PromptInput` or :class:`Sampling` and lands in its group (a loose
keyword overrides the same field of a group passed whole).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputTypeError

__all__ = ["PromptInput", "Sampling", "split_settings"]


@dataclass(frozen=True)
class PromptInput:
    """Conditioning (``text``, token ids, or nothing: ``batch`` unconditional rows) and a continuation prompt.

    A continuation starts from ``prompt_codes`` ``(B, K, Tp)`` or ``prompt_audio``
    (file path or mono samples at the model's rate).
    """

    text: Sequence[str] | str | None = None
    input_ids: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    batch: int | None = None
    prompt_codes: torch.Tensor | None = None
    prompt_audio: str | Path | np.ndarray | None = None

    @property
    def texts(self) -> list[str] | None:
        return [self.text] if isinstance(self.text, str) else (None if self.text is None else list(self.text))

    def inferred_batch(self) -> int | None:
        """``batch``, or when nothing else fixes it: 1, or the prompt codes' rows."""
        if self.text is None and self.input_ids is None and self.batch is None:
            return 1 if self.prompt_codes is None else int(torch.as_tensor(self.prompt_codes).shape[0])
        return self.batch


@dataclass(frozen=True)
class Sampling:
    """How each token is drawn; ``None`` fields take the model's ``generation_defaults``.

    ``row_keys`` (one int per row) samples each row with noise keyed by its key and
    ``seed``: rows sharing a key share their randomness across calls and batch
    layouts (see :mod:`musicinterp.engine.sampling`).
    """

    guidance_scale: float | None = None
    do_sample: bool = True
    temperature: float | None = None
    top_k: int | None = None
    seed: int | None = None
    row_keys: Sequence[int] | torch.Tensor | None = None

    def resolved(self, defaults: Mapping[str, Any]) -> Sampling:
        """Unset guidance, temperature and top-k filled from ``defaults``."""
        fill = {k: defaults[k] for k in ("guidance_scale", "temperature", "top_k") if getattr(self, k) is None}
        return dataclasses.replace(self, **fill)

    @property
    def guided(self) -> bool:
        return self.guidance_scale is not None and self.guidance_scale > 1

    @property
    def keyed(self) -> bool:
        """Keyed sampling: greedy decoding over scores perturbed with each row's keyed noise."""
        return self.row_keys is not None and self.do_sample


def split_settings(prompt: PromptInput | None, sampling: Sampling | None, loose: dict[str, Any]
                   ) -> tuple[PromptInput, Sampling]:
    """The two groups with the loose keywords ``loose`` folded in; an unknown keyword is a ``TypeError``."""
    groups = {PromptInput: {}, Sampling: {}}
    for key, value in loose.items():
        owner = next((cls for cls in groups if key in {f.name for f in dataclasses.fields(cls)}), None)
        if owner is None:
            raise InputTypeError(f"generate() got an unexpected keyword argument {key!r}")
        groups[owner][key] = value
    return (dataclasses.replace(prompt or PromptInput(), **groups[PromptInput]),
            dataclasses.replace(sampling or Sampling(), **groups[Sampling]))


def tile(kwargs: dict[str, Any], times: int) -> dict[str, Any]:
    """Task kwargs with every prompt repeated ``times`` times (settings stacked along the batch)."""
    out = dict(kwargs)
    for key in ("prompt_codes", "input_ids", "attention_mask"):
        if out.get(key) is not None:
            out[key] = torch.cat([torch.as_tensor(out[key])] * times)
    if out.get("text") is not None:
        out["text"] = list(out["text"]) * times
    if out.get("batch") is not None:
        out["batch"] = out["batch"] * times
    return out


def take_rows(kwargs: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    """Task kwargs for prompts ``start:stop`` only (a long task generated in parts)."""
    out = dict(kwargs)
    for key in ("prompt_codes", "input_ids", "attention_mask"):
        if out.get(key) is not None:
            out[key] = torch.as_tensor(out[key])[start:stop]
    if out.get("text") is not None:
        out["text"] = list(out["text"])[start:stop]
    if out.get("batch") is not None:
        out["batch"] = len(range(start, min(stop, out["batch"])))
    return out


def task_batch(kwargs: dict[str, Any]) -> int:
    """How many generations a task's kwargs ask for."""
    for key in ("prompt_codes", "input_ids"):
        if kwargs.get(key) is not None:
            return int(torch.as_tensor(kwargs[key]).shape[0])
    if kwargs.get("text") is not None:
        return len(kwargs["text"])
    return int(kwargs.get("batch") or 1)
