"""Conditioning: the text-encoder inputs of a prompt batch (text, token ids, or unconditional).

:class:`Conditioning` holds the inputs and doubles them into classifier-free guidance
rows; :class:`ConditioningMixin` gives :class:`~musicinterp.models.musicgen.MusicGen`
its ``tokenize`` and ``conditioning`` methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import InputError


@dataclass
class Conditioning:
    """Text-encoder inputs for a prompt batch of ``batch`` rows.

    Unconditional rows are token id 0 with an all-zero attention mask: MusicGen
    multiplies the encoder states by the mask, which gives exactly its null
    condition, and keeps the same inputs working for ``generate`` (whose CFG
    doubling needs token ids, not encoder outputs).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor

    @property
    def batch(self) -> int:
        return int(self.input_ids.shape[0])

    def kwargs(self, cfg_rows: bool = False) -> dict[str, torch.Tensor]:
        """Forward kwargs; with ``cfg_rows`` the batch is doubled, conditional rows first."""
        if not cfg_rows:
            return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}
        return {
            "input_ids": torch.cat([self.input_ids, self.input_ids]),
            "attention_mask": torch.cat([self.attention_mask, torch.zeros_like(self.attention_mask)]),
        }


class ConditioningMixin:
    """Building :class:`Conditioning` for a model with a (possibly absent) tokenizer."""

    name: str
    tokenizer: Any | None
    tokenizer_problem: str | None
    device: torch.device

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and attention mask for ``texts`` with the model's own tokenizer."""
        if self.tokenizer is None:
            why = f": {self.tokenizer_problem}" if self.tokenizer_problem else ""
            raise InputError(
                f"model {self.name!r} has no tokenizer{why}; pass token ids (input_ids=...) instead of text"
            )
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        if ids.shape[1] == 0:  # every prompt empty: one masked pad column is the null condition
            ids = torch.zeros(len(texts), 1, dtype=torch.long)
            mask = torch.zeros(len(texts), 1, dtype=torch.long)
        return ids, mask

    def conditioning(
        self,
        *,
        text: Sequence[str] | None = None,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        batch: int | None = None,
    ) -> Conditioning:
        """Conditioning from text, token ids, or (neither) unconditional for ``batch`` rows."""
        if text is not None:
            if isinstance(text, str):
                text = [text]
            input_ids, attention_mask = self.tokenize(text)
        if input_ids is not None:
            input_ids = torch.as_tensor(input_ids, dtype=torch.long)
            if input_ids.dim() != 2:
                raise InputError(f"input_ids must be (B, L), got shape {tuple(input_ids.shape)}")
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
        else:
            if batch is None:
                raise InputError("unconditional conditioning needs a batch size")
            input_ids = torch.zeros(batch, 1, dtype=torch.long)
            attention_mask = torch.zeros(batch, 1, dtype=torch.long)
        return Conditioning(input_ids.to(self.device), attention_mask.to(self.device))
