"""ConceptSet: labelled examples (code clips or prompts) for one or more concepts, with groups and splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import InputError


@dataclass(frozen=True)
class AudioRef:
    """An audio clip on disk, optionally a segment of a longer file."""

    path: str
    offset_s: float = 0.0
    duration_s: float | None = None


@dataclass
class ConceptSet:
    """Labelled clips ``codes (N, K, T)`` (or text ``prompts``) for concepts.

    ``groups`` names each example's source clip so that splits never put two
    versions of one clip on both sides; ``labels`` maps concept -> ``(N,)``.
    """

    name: str
    labels: dict[str, torch.Tensor]
    ids: list[str]
    groups: list[str]
    codes: torch.Tensor | list[torch.Tensor] | None = None
    audio: list[AudioRef] | None = None
    prompts: list[str] | None = None
    splits: list[str] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            dup = sorted({i for i in self.ids if self.ids.count(i) > 1})[:5]
            raise InputError(f"concept set {self.name!r} has duplicate ids: {dup}")
        if len(self.groups) != n:
            raise InputError(f"concept set {self.name!r}: {len(self.groups)} groups for {n} examples")
        sources = [s for s in (self.codes, self.audio, self.prompts) if s is not None]
        if len(sources) != 1:
            raise InputError(f"concept set {self.name!r} needs exactly one of codes, audio or prompts")
        if len(sources[0]) != n:
            raise InputError(f"concept set {self.name!r}: {len(sources[0])} examples for {n} ids")
        if self.splits is not None and len(self.splits) != n:
            raise InputError(f"concept set {self.name!r}: {len(self.splits)} splits for {n} ids")
        for concept, lab in self.labels.items():
            if lab.shape[0] != n:
                raise InputError(f"concept set {self.name!r}: labels[{concept!r}] has {lab.shape[0]} rows for {n}")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def kind(self) -> str:
        return "codes" if self.codes is not None else "audio" if self.audio is not None else "prompts"

    def check_concepts(self) -> None:
        """Every concept needs both classes (binary) or some spread (continuous)."""
        for concept, lab in self.labels.items():
            values = torch.unique(lab[torch.isfinite(lab.float())])
            if values.numel() < 2:
                raise InputError(f"concept {concept!r} in set {self.name!r} has a single class "
                                 f"({values.tolist()}); probes and steering need both")
