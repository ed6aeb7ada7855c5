"""Feature-set stability across SAE seeds: does the concept's set of features come back?

Which feature ranks first for a concept can change between seeds while the set
is stable. For the concept's feature set in a reference SAE (the first), each
feature's *best-match cosine* is the largest cosine between its decoder column
and any decoder column of another seed's SAE; 1.0 means the same direction was
learned again. The single-best-feature cosine compares only the top-ranked
feature of each seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .errors import SAEConfigError


@dataclass
class StabilityResult:
    """Per other seed: the reference set's best-match cosines ``(n_set,)``, whether each match lies in that
    seed's own set, and the cosine between the seeds' single best features."""

    concept: str
    features: list[int]  # the reference SAE's feature set
    best_match: list[torch.Tensor]  # one (n_set,) per other SAE
    match_in_set: list[torch.Tensor]  # one (n_set,) bool per other SAE
    best_feature_cos: list[float]  # one per other SAE

    @property
    def mean(self) -> float:
        """Mean best-match cosine over the set and the other seeds."""
        return float(torch.cat(self.best_match).mean())

    def table(self):
        """One row per (other SAE, reference feature): ``best_match`` and ``match_in_set``."""
        import pandas as pd

        return pd.DataFrame([{"other": i + 1, "feature": f, "best_match": float(cos[j]),
                              "match_in_set": bool(inset[j])}
                             for i, (cos, inset) in enumerate(zip(self.best_match, self.match_in_set, strict=True))
                             for j, f in enumerate(self.features)])

    def __repr__(self) -> str:
        best = ", ".join(f"{c:.3f}" for c in self.best_feature_cos)
        return (f"StabilityResult({self.concept!r}: {len(self.features)} features x {len(self.best_match)} other "
                f"seed(s), mean best-match cosine {self.mean:.3f}, single best feature {best})")


def _analyses(items: Sequence[Any], store: Any) -> list[Any]:
    from .artifact import SAE
    from .features import analyze

    out = []
    for item in items:
        if isinstance(item, SAE):
            if store is None:
                raise SAEConfigError("stability: pass store= to analyse SAEs (or pass FeatureAnalysis objects)")
            item = analyze(item, store, probes=False, progress=False)
        if not hasattr(item, "sae") or not hasattr(item, "auc"):
            raise SAEConfigError(f"stability: expected SAEs or FeatureAnalysis objects, got {type(item).__name__}")
        out.append(item)
    return out


def _trained(store: Any, seeds: Sequence[int], site: str, layer: int | None, settings: dict[str, Any]) -> list[Any]:
    from .training import train

    return [train(store, site, layer=layer, seed=int(s), progress=False, **settings) for s in seeds]


def stability(saes: Sequence[Any] | None, concept: str, *, store: Any = None, n_features: int = 4,
              min_auc: float | None = None, seeds: Sequence[int] | None = None, site: str = "resid",
              layer: int | None = None, **train_settings: Any) -> StabilityResult:
    """Best-match cosines of the concept's feature set across two or more SAEs.

    ``saes``: SAEs (analysed on ``store``) or :class:`FeatureAnalysis` results, the first the reference;
    or ``None`` with ``seeds`` to train one SAE per seed on ``store`` (``site``, ``layer``, ``train_settings``
    as for :func:`musicinterp.sae.train`). The set: features whose AUC reaches ``min_auc``, else the top
    ``n_features``.
    """
    from .features import select_features

    if saes is None:
        if store is None or seeds is None:
            raise SAEConfigError("stability: pass saes, or store= and seeds= to train them")
        saes = _trained(store, seeds, site, layer, train_settings)
    items = _analyses(list(saes), store)
    if len(items) < 2:
        raise SAEConfigError(f"stability: needs two or more SAEs, got {len(items)}")
    ref = items[0]
    for other in items[1:]:
        if (other.sae.site, other.sae.layer, other.sae.d_in) != (ref.sae.site, ref.sae.layer, ref.sae.d_in):
            raise SAEConfigError("stability: every SAE must read the same site, layer and width")
    feats = select_features(ref, concept, n_features, min_auc)
    ref_dirs = _unit(ref.sae.directions[:, feats].T)  # (n, d)
    best, inset, top = [], [], []
    for other in items[1:]:
        cos = ref_dirs @ _unit(other.sae.directions.T).T  # (n, F_other)
        value, idx = cos.max(-1)
        own = set(select_features(other, concept, n_features, min_auc))
        best.append(value.float())
        inset.append(torch.tensor([int(i) in own for i in idx.tolist()]))
        top.append(float(cos[0, other.best(concept, 1)[0]]))
    return StabilityResult(concept, feats, best, inset, top)


def _unit(m: torch.Tensor) -> torch.Tensor:
    m = m.detach().double()
    return m / m.norm(dim=-1, keepdim=True).clamp_min(1e-12)
