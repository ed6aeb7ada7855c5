"""Teacher-forced sweep metrics: deterministic, cheap, one value per cell.

Each metric maps the per-frame log-probs of a chunk of cells ``(C, B, K, T, V)``
(on the scored CFG branch) to ``(C,)`` or, per codebook, ``(C, K)`` (the scalar
is then the mean over codebooks). A metric may ask for site reads (the probe
score does): the sweep hands them over pooled over each clip's valid positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..models.musicgen import MusicGen
from ..models.sources import world_of
from .inputs import AblationInputError


@dataclass
class MetricContext:
    """What a metric may use besides the log-probs."""

    targets: torch.Tensor  # (B, K, T) codes scored by cross-entropy
    reference: torch.Tensor | None = None  # (B, K, T, V) clean log-probs (KL)
    reads: dict[tuple[str, int], torch.Tensor] = field(default_factory=dict)  # (C, B, ...) pooled


class Metric:
    """Base class: ``name``, whether it is per codebook, the site reads it needs."""

    name: str = "metric"
    per_codebook: bool = False
    needs_reference: bool = False

    def reads(self) -> list[tuple[str, int]]:
        return []

    def __call__(self, logp: torch.Tensor, ctx: MetricContext) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


def _window(x: torch.Tensor, frames: tuple[int, int] | None) -> torch.Tensor:
    """Restrict the frame axis (dim 3 of ``(C, B, K, T, ...)``) to ``frames``."""
    return x if frames is None else x[:, :, :, frames[0] : frames[1]]


@dataclass(repr=False)
class CrossEntropy(Metric):
    """Next-code cross-entropy (nats) per codebook, averaged over clips and frames."""

    frames: tuple[int, int] | None = None
    name: str = "ce"
    per_codebook: bool = True

    def __call__(self, logp: torch.Tensor, ctx: MetricContext) -> torch.Tensor:
        idx = ctx.targets.to(logp.device)[None, ..., None].expand(logp.shape[0], -1, -1, -1, 1)
        nll = -logp.gather(-1, idx).squeeze(-1)  # (C, B, K, T)
        return _window(nll, self.frames).mean(dim=(1, 3))


@dataclass(repr=False)
class KLToClean(Metric):
    """KL(clean || run) of the next-code distributions per codebook, averaged over clips and frames."""

    frames: tuple[int, int] | None = None
    name: str = "kl"
    per_codebook: bool = True
    needs_reference: bool = True

    def __call__(self, logp: torch.Tensor, ctx: MetricContext) -> torch.Tensor:
        ref = ctx.reference.to(logp.device)[None]
        kl = (ref.exp() * (ref - logp)).sum(-1)  # (C, B, K, T)
        return _window(kl, self.frames).mean(dim=(1, 3))


@dataclass(repr=False)
class LogitDiff(Metric):
    """log P(any of ``positive``) - log P(any of ``negative``) on ``codebook``, averaged over clips and frames.

    For the organism's drums: drum-hit codes against silence on the drum codebook.
    """

    codebook: int = 0
    positive: Sequence[int] = ()
    negative: Sequence[int] = ()
    frames: tuple[int, int] | None = None
    name: str = "logit_diff"

    def __post_init__(self) -> None:
        if not len(self.positive) or not len(self.negative):
            raise AblationInputError("metric: a logit difference needs positive and negative codes")
        self._pos = torch.as_tensor(list(self.positive))
        self._neg = torch.as_tensor(list(self.negative))

    def __call__(self, logp: torch.Tensor, ctx: MetricContext) -> torch.Tensor:
        cb = _window(logp[:, :, self.codebook : self.codebook + 1], self.frames)[:, :, 0]  # (C, B, T, V)
        pos = cb.index_select(-1, self._pos.to(cb.device)).logsumexp(-1)
        neg = cb.index_select(-1, self._neg.to(cb.device)).logsumexp(-1)
        return (pos - neg).mean(dim=(1, 2))


@dataclass(repr=False)
class ProbeScore(Metric):
    """Mean probe logit of a fitted bank's ``top`` most accurate groups on the (edited) run.

    Features are the bank's site at its layers, pooled over each clip's valid
    positions (the bank's ``"mean"`` pooling; ``"last"`` uses the last valid position).
    """

    bank: Any = None
    top: int = 8
    name: str = "probe"

    def __post_init__(self) -> None:
        if self.bank is None:
            raise AblationInputError("metric: ProbeScore needs a fitted probe bank (bank=)")
        k = min(self.top, self.bank.n_groups)
        self.groups = torch.argsort(self.bank.val_acc, descending=True)[:k]
        self.layers = sorted({int(g) // self._per_layer for g in self.groups})
        self.name = f"probe[{self.bank.concept}@{self.bank.site}, top {k}]"

    @property
    def _per_layer(self) -> int:
        return int(self.bank.grid[1]) if len(self.bank.grid) == 2 else 1

    def check(self, model: MusicGen) -> None:
        fp = self.bank.meta.get("model_fingerprint")
        if fp is not None and fp != model.fingerprint:
            raise AblationInputError(
                f"metric: the probe bank for {self.bank.concept!r} was fitted on activations of model "
                f"{self.bank.meta.get('model_id')!r} (fingerprint {fp}), not of {model.name!r} ({model.fingerprint})")
        if self.bank.grid[0] != model.n_layers or (len(self.bank.grid) == 2 and self.bank.grid[1] != model.n_heads):
            raise AblationInputError(f"metric: probe bank grid {tuple(self.bank.grid)} does not fit a "
                                     f"{model.n_layers}-layer, {model.n_heads}-head model")

    def reads(self) -> list[tuple[str, int]]:
        return [(self.bank.site, layer) for layer in self.layers]

    def __call__(self, logp: torch.Tensor, ctx: MetricContext) -> torch.Tensor:
        per_layer = self._per_layer
        scores = []
        for g in self.groups.tolist():
            layer, head = divmod(g, per_layer)
            x = ctx.reads[(self.bank.site, layer)]  # (C, B, ...) pooled
            x = x[:, :, head] if per_layer > 1 else x
            if self.bank.normalize:
                x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            scores.append((x.float() * self.bank.weight[g]).sum(-1) + self.bank.bias[g])
        return torch.stack(scores, -1).mean(dim=(1, 2))


def resolve_metric(model: MusicGen, metric: str | Metric) -> Metric:
    """``"ce"``, ``"kl"``, ``"logit_diff:<concept>"`` (organism) or a :class:`Metric`."""
    if isinstance(metric, Metric):
        if isinstance(metric, ProbeScore):
            metric.check(model)
        return metric
    if metric == "ce":
        return CrossEntropy()
    if metric == "kl":
        return KLToClean()
    if isinstance(metric, str) and metric.startswith("logit_diff:"):
        return world_of(model).concept_metric(metric.split(":", 1)[1])
    raise AblationInputError(f"metric must be 'ce', 'kl', 'logit_diff:<concept>' or a Metric, got {metric!r}")


def codebook_names(model: MusicGen) -> list[str]:
    return world_of(model).codebook_names(model.n_codebooks)
