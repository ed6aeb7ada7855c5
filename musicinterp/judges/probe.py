"""Probe judges: a fitted :class:`~musicinterp.probes.ProbeBank` reads generated codes, teacher-forced.

The codes are traced through the model (``trace_codes``) under the same
conditioning the bank's store was collected with (the null text condition
unless ``text`` is given), at the bank's site and frame pooling (mean over the
valid frames, or the last valid frame). The score is the probe's probability
from the bank's most accurate group (head or layer), or the mean over its
``top_k`` most accurate groups. Linear banks give their regression output
instead of a probability (threshold 0).
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.audio import resample
from ..engine.tracing import trace_codes
from ..errors import InputError
from ..models.musicgen import MusicGen
from ..probes import ProbeBank
from .base import BaseJudge, JudgeInputError


class ProbeJudge(BaseJudge):
    """Concept presence read by a probe bank from the model's activations on the codes."""

    needs = "codes"

    def __init__(self, model: MusicGen, bank: ProbeBank, *, top_k: int = 1, text: str | None = None,
                 threshold: float | None = None, batch_size: int = 16) -> None:
        if bank.pooling not in ("mean", "last"):
            raise InputError(f"bank pooling must be 'mean' or 'last', got {bank.pooling!r}")
        if not 1 <= top_k <= bank.n_groups:
            raise InputError(f"top_k must be in 1..{bank.n_groups} (the bank's groups), got {top_k}")
        expected = bank.grid[0]
        if expected != model.n_layers:
            raise InputError(f"bank {bank.concept!r} was fitted on a {expected}-layer model; "
                             f"model {model.name!r} has {model.n_layers} layers")
        self.model, self.bank, self.top_k, self.text = model, bank, int(top_k), text
        self.batch_size = int(batch_size)
        self.logistic = bank.config.kind == "logistic"
        self.concept = bank.concept
        self.name = f"probe:{bank.concept}@{bank.site}" + (f"-top{top_k}" if top_k > 1 else "")
        if threshold is None:
            labels = bank.val_labels
            if not self.logistic and labels is not None and not set(torch.unique(labels).tolist()) <= {0.0, 1.0}:
                raise InputError(f"bank {bank.concept!r} predicts a continuous value: pass threshold=...")
            threshold = 0.5 if self.logistic else 0.0
        self.threshold = float(threshold)
        self.groups = torch.argsort(bank.val_acc, descending=True)[: self.top_k]
        per_layer = int(np.prod(bank.grid[1:])) if len(bank.grid) > 1 else 1
        self.layers = sorted({int(g) // per_layer for g in self.groups})

    def _features(self, codes: torch.Tensor) -> torch.Tensor:
        """Pooled features of the chosen groups ``(B, top_k, d)``."""
        cond = None
        if self.text is not None:
            cond = self.model.conditioning(text=[self.text] * codes.shape[0])
        res = trace_codes(self.model, codes, cond=cond, read={self.bank.site: self.layers}, frames="valid",
                          logits=False)
        act = res.activations[self.bank.site].float()  # (B, L_read, P, ...)
        pooled = act.mean(2) if self.bank.pooling == "mean" else act[:, :, -1]
        flat = pooled.reshape(pooled.shape[0], -1, pooled.shape[-1])  # (B, L_read * heads, d)
        per_layer = flat.shape[1] // len(self.layers)
        index = [self.layers.index(int(g) // per_layer) * per_layer + int(g) % per_layer for g in self.groups]
        return flat[:, index].cpu()

    @torch.no_grad()
    def score_codes(self, codes: torch.Tensor) -> np.ndarray:
        codes = torch.as_tensor(codes)
        if codes.dim() == 2:
            codes = codes[None]
        try:
            codes = self.model.check_codes(codes)
        except ValueError as err:
            raise JudgeInputError(f"codes: {err}") from None
        if codes.shape[-1] < self.model.n_codebooks:
            raise JudgeInputError(f"codes: {codes.shape[-1]} frames is shorter than the "
                                  f"{self.model.n_codebooks}-frame delay")
        w, b = self.bank.weight[self.groups], self.bank.bias[self.groups]
        out = []
        for i in range(0, codes.shape[0], self.batch_size):
            x = self._features(codes[i : i + self.batch_size])
            if self.bank.normalize:
                x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            z = (x * w).sum(-1) + b  # (B, top_k)
            out.append((torch.sigmoid(z) if self.logistic else z).mean(1))
        return torch.cat(out).double().numpy()

    def score_audio_as_codes(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        """Encode audio with the model's codec (resampled to its rate), then read the codes."""
        if self.model.renderer is not None:
            raise JudgeInputError(f"model {self.model.name!r} has no audio encoder: pass codes=... instead of audio")
        lengths = {len(a) for a in audio}
        if len(lengths) != 1:
            raise JudgeInputError("audio clips for a probe judge must have equal lengths (they are encoded in a batch)")
        wav = np.stack([resample(a, sample_rate, self.model.sample_rate) for a in audio])
        return self.score_codes(self.model.audio_to_codes(wav))
