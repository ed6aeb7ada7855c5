"""Keyed sampling: each row draws its randomness from its own key, so that settings can share it.

Sampling by the Gumbel-max trick: ``argmax(log softmax(top_k(logits / T)) + G)``
with ``G`` standard Gumbel noise is an exact draw from the top-k, temperature
distribution. :class:`KeyedSampler` draws ``G`` for a row from a stream keyed by
``(seed, row key, step)`` instead of the global generator, so a row's draw does
not depend on which other rows share its batch or in what order.

Rows that share a key — the same prompt under several steering settings — then
share their noise (common random numbers): an unsteered row and a weakly
steered one pick the same tokens until steering moves the argmax, and a
difference between settings measures steering rather than sampling luck. Each
row's own distribution is unchanged. A batched sweep gives the same codes as
one setting at a time, sampled as well as greedy.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers.generation.logits_process import LogitsProcessor, LogitsProcessorList

from ..errors import InputError

__all__ = ["KeyedSampler", "keyed_processors", "check_row_keys"]

_TINY = 1e-12


def check_row_keys(row_keys: Sequence[int] | torch.Tensor, batch: int) -> list[int]:
    """``row_keys`` as a list of ``batch`` non-negative ints; the error names the argument and the shape."""
    keys = torch.as_tensor(row_keys)
    if keys.dim() != 1 or keys.shape[0] != batch:
        raise InputError(f"row_keys must hold one int per generated row ({batch}), got shape {tuple(keys.shape)}")
    if keys.is_floating_point() or keys.is_complex() or keys.dtype == torch.bool:
        raise InputError(f"row_keys must be integers, got dtype {keys.dtype}")
    if (keys < 0).any():
        raise InputError(f"row_keys must be non-negative, got {keys.min().item()}")
    return [int(k) for k in keys.tolist()]


class KeyedSampler(LogitsProcessor):
    """Turns greedy decoding into sampling with noise keyed per row: the last processor before the argmax.

    Scores arrive as ``(len(row_keys) * r, vocab)``, key-major (each key owns ``r``
    consecutive rows: a prompt's codebooks), after guidance has merged its two
    branches; each key's block gets noise from the stream of ``(seed, key, step)``.
    """

    def __init__(self, row_keys: Sequence[int], temperature: float = 1.0, top_k: int | None = None,
                 seed: int = 0) -> None:
        if not temperature > 0:
            raise InputError(f"temperature must be > 0 to sample, got {temperature}")
        self.row_keys, self.temperature, self.top_k, self.seed = list(row_keys), float(temperature), top_k, int(seed)

    def noise(self, step: int, shape: tuple[int, int]) -> torch.Tensor:
        """Standard Gumbel noise ``(len(row_keys), *shape)`` for one step, each key's from its own stream
        (drawn once per distinct key: a sweep repeats every prompt's key once per setting)."""
        distinct = list(dict.fromkeys(self.row_keys))
        out = torch.empty(len(distinct), *shape, dtype=torch.float64)
        gen = torch.Generator()
        for i, key in enumerate(distinct):
            gen.manual_seed(hash((self.seed, key, step)) & 0x7FFF_FFFF_FFFF_FFFF)
            out[i] = torch.rand(shape, generator=gen, dtype=torch.float64)
        where = {key: i for i, key in enumerate(distinct)}
        out = out[torch.tensor([where[key] for key in self.row_keys])]
        return -torch.log(-torch.log(out.clamp(_TINY, 1 - _TINY)))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows, vocab = scores.shape
        if rows != input_ids.shape[0] or rows % len(self.row_keys):
            raise InputError(f"scores have {rows} rows for {input_ids.shape[0]} sequences and "
                             f"{len(self.row_keys)} row keys: the sampler must run after guidance, once per row")
        logits = scores.float() / self.temperature
        if self.top_k is not None and 0 < self.top_k < vocab:
            kth = torch.topk(logits, self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        logp = torch.log_softmax(logits, dim=-1)
        step = int(input_ids.shape[-1])
        gumbel = self.noise(step, (rows // len(self.row_keys), vocab)).reshape(rows, vocab)
        return logp + gumbel.to(device=logp.device, dtype=logp.dtype)


class _SamplerLast(LogitsProcessorList):
    """A processor list that keeps its last entry last: MusicGen's ``generate`` appends its guidance processor
    to the list it is given, and the sampler must see the guided scores."""

    def append(self, processor: LogitsProcessor) -> None:
        self.insert(len(self) - 1, processor)


def keyed_processors(row_keys: Sequence[int], temperature: float, top_k: int | None, seed: int) -> LogitsProcessorList:
    """The ``logits_processor`` for Hugging Face ``generate(do_sample=False, ...)`` that samples with keyed noise."""
    return _SamplerLast([KeyedSampler(row_keys, temperature=temperature, top_k=top_k, seed=seed)])
