"""FAD, FAD-inf and KAD between two sets of clips under one embedder, in one small result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .embedders import Clips, Embedder
from .fad import FadInf, Interval, MeasureError, _check_pair, fad, fad_inf, fad_interval
from .kad import kad_interval


@dataclass(frozen=True)
class AudioDistances:
    """Between set ``a`` (e.g. steered) and set ``b`` (e.g. the unsteered run of the same task): the plug-in
    ``fad``; ``fad_ci``, the bias-corrected FAD with its basic bootstrap interval; ``fad_inf``, the 1/n
    extrapolation; ``kad``, the unbiased KAD with a percentile bootstrap interval. At n of a few dozen the
    plug-in FAD is mostly small-n bias unless d is well below n; KAD is unbiased at any n."""

    embedder: str
    n_a: int
    n_b: int
    dim: int
    fad: float
    fad_ci: Interval
    fad_inf: FadInf
    kad: Interval

    def __repr__(self) -> str:
        return (f"AudioDistances({self.embedder}, n={self.n_a}/{self.n_b}, d={self.dim}: FAD {self.fad:.4g} "
                f"(corrected {self.fad_ci!r}), FAD-inf {self.fad_inf.value:.4g}, KAD {self.kad!r})")

    def to_dict(self) -> dict[str, Any]:
        return {"embedder": self.embedder, "n_a": self.n_a, "n_b": self.n_b, "dim": self.dim, "fad": self.fad,
                "fad_ci": self.fad_ci.to_dict(),
                "fad_inf": self.fad_inf.to_dict(), "kad": self.kad.to_dict()}


def embedding_distances(emb_a: np.ndarray, emb_b: np.ndarray, *, name: str = "embeddings", n_boot: int = 200,
                        level: float = 0.95, seed: int = 0, bandwidth: float | None = None, paired: bool = False) -> AudioDistances:
    """:class:`AudioDistances` between two ``(n, d)`` embedding sets (at least 4 rows each); ``paired``: row i
    of each set comes from the same prompt and seed, and the bootstrap resamples pairs."""
    a, b = _check_pair(emb_a, emb_b, min_rows=4)
    return AudioDistances(
        embedder=name, n_a=len(a), n_b=len(b), dim=a.shape[1], fad=fad(a, b),
        fad_ci=fad_interval(a, b, n_boot=n_boot, level=level, seed=seed, paired=paired),
        fad_inf=fad_inf(a, b, seed=seed),
        kad=kad_interval(a, b, bandwidth=bandwidth, n_boot=n_boot, level=level, seed=seed, paired=paired),
    )


def audio_distances(clips_a: Clips, clips_b: Clips, embedder: Embedder, *, n_boot: int = 200,
                    level: float = 0.95, seed: int = 0, bandwidth: float | None = None,
                    paired: bool = False) -> AudioDistances:
    """Embed both sets of clips (codes ``(B, K, T)`` or audio ``(B, samples)``) and measure FAD, FAD-inf, KAD;
    ``paired`` when clip i of each set shares its prompt and seed (steered against unsteered)."""
    if not isinstance(embedder, Embedder):
        raise MeasureError(f"embedder must have a name and be callable on clips, got {type(embedder).__name__}")
    return embedding_distances(embedder(clips_a), embedder(clips_b), name=embedder.name, n_boot=n_boot,
                               level=level, seed=seed, bandwidth=bandwidth, paired=paired)
