"""``analyze``: every feature of an SAE against every clip and label of a store, in one ordered pass.

Per feature: firing rate (density), mean activation when firing, a histogram
of its activations, its clip-pooled activation (mean over each clip's frames)
and peak per clip, its selectivity for every binary label (AUC of the pooled
activation), and the cosine of its decoder direction with each concept's
difference-in-means and probe direction. Activations are in the SAE's own
units (those of the normalised input).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from .artifact import SAE
from .errors import SAEConfigError
from .frames import ordered_frames, row_clips
from .selectivity import binary_concepts, concept_directions, cosines, rank_auc

HIST_EDGES = torch.logspace(-3, 3, 49)  # activation histogram bins (log-spaced, SAE units)


@dataclass
class FeatureAnalysis:
    """Per-feature statistics over a store's clips. Explore with :meth:`table`, :meth:`best`, the views."""

    sae: SAE
    store: Any
    clip_ids: list[str]
    labels: dict[str, torch.Tensor]  # concept -> (N,)
    pooled: torch.Tensor  # (N, F) mean activation over each clip's frames
    peak: torch.Tensor  # (N, F) max activation in each clip
    density: torch.Tensor  # (F,) fraction of frames the feature fires on
    mean_active: torch.Tensor  # (F,) mean activation where it fires
    hist: torch.Tensor  # (F, bins) counts of firing activations per HIST_EDGES bin
    auc: dict[str, torch.Tensor]  # concept -> (F,)
    cos: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # kind -> concept -> (F,)

    @property
    def n_features(self) -> int:
        return int(self.density.numel())

    @property
    def concepts(self) -> list[str]:
        return list(self.auc)

    def __repr__(self) -> str:
        best = ", ".join(f"{c}: f{self.best(c)[0]} (AUC {float(self.auc[c].max()):.2f})" for c in self.concepts)
        return (f"FeatureAnalysis({self.n_features} features x {len(self.clip_ids)} clips, "
                f"{int((self.density == 0).sum())} dead; best per concept: {best})")

    def best(self, concept: str, n: int = 1) -> list[int]:
        """The ``n`` features whose clip-pooled activation best separates ``concept`` (highest AUC).

        Ties (several features separating perfectly, AUC 1) go to the larger gap between the classes' mean
        pooled activation, in units of the feature's spread over clips.
        """
        if concept not in self.auc:
            raise SAEConfigError(f"no binary concept {concept!r} in this analysis; it has {', '.join(self.auc)}")
        y = self.labels[concept] == 1
        gap = (self.pooled[y].mean(0) - self.pooled[~y].mean(0)) / self.pooled.std(0).clamp_min(1e-12)
        by_gap = torch.argsort(gap, descending=True, stable=True)
        by_auc = torch.argsort(self.auc[concept].nan_to_num(0.5)[by_gap], descending=True, stable=True)
        return by_gap[by_auc][:n].tolist()

    def best_concept(self) -> tuple[list[str], torch.Tensor]:
        """Per feature, the concept it separates best (AUC furthest above 0.5) and that AUC."""
        aucs = torch.stack([self.auc[c] for c in self.concepts])  # (C, F)
        value, idx = aucs.nan_to_num(0.5).max(0)
        names = [self.concepts[i] if v > 0.5 else "none" for i, v in zip(idx.tolist(), value.tolist(), strict=True)]
        return names, value

    def table(self):
        """One row per feature: density, mean activation, AUC per concept, cosines, best concept."""
        import pandas as pd

        names, value = self.best_concept()
        cols: dict[str, Any] = {"density": self.density.tolist(), "mean_active": self.mean_active.tolist(),
                                "best_concept": names, "best_auc": value.tolist()}
        for c in self.concepts:
            cols[f"auc_{c}"] = self.auc[c].tolist()
        for kind, per in self.cos.items():
            for c, v in per.items():
                cols[f"cos_{kind}_{c}"] = v.tolist()
        return pd.DataFrame(cols).rename_axis("feature")

    def top_clips(self, feature: int, n: int = 5) -> list[tuple[str, float]]:
        """Clips with the largest pooled activation of ``feature``: (clip id, pooled activation)."""
        self.sae._check_feature(feature)
        order = torch.argsort(self.pooled[:, feature], descending=True)[:n].tolist()
        return [(self.clip_ids[i], float(self.pooled[i, feature])) for i in order]

    def clip_activations(self, clip_id: str, features: list[int] | None = None) -> torch.Tensor:
        """Activations ``(frames, len(features))`` (all features when ``None``) over one clip's stored frames."""
        if clip_id not in self.clip_ids:
            raise SAEConfigError(f"store {self.store.root} has no clip {clip_id!r}")
        i = self.clip_ids.index(clip_id)
        rows = self.store.clips.column("n_rows").to_pylist()
        first = sum(rows[:i])
        parts = []
        for r, x in ordered_frames(self.store, self.sae.site, self.sae.layer, self.sae.head):
            sel = (r >= first) & (r < first + rows[i])
            if sel.any():
                parts.append(self.sae.encode(x[sel]).cpu())
        acts = torch.cat(parts)
        return acts if features is None else acts[:, features]

    def page(self, feature: int, n_clips: int = 3) -> dict[str, Any]:
        """Everything the feature page shows, as plain data."""
        names, value = self.best_concept()
        top = [{"clip_id": cid, "pooled": p, "activation": self.clip_activations(cid, [feature])[:, 0].tolist()}
               for cid, p in self.top_clips(feature, n_clips)]
        return {"feature": feature, "density": float(self.density[feature]), "best_concept": names[feature],
                "best_auc": float(value[feature]), "auc": {c: float(self.auc[c][feature]) for c in self.concepts},
                "cosines": {k: {c: float(v[feature]) for c, v in per.items()} for k, per in self.cos.items()},
                "hist_edges": HIST_EDGES.tolist(), "hist_counts": self.hist[feature].tolist(), "top_clips": top}

    def top_clip_audio(self, feature: int, model: Any, n: int = 3, clips: Any = None) -> list[tuple[str, Any]]:
        """(clip id, audio) of the top clips of ``feature``, decoded with ``model.codes_to_audio``."""
        from ..models.sources import world_of
        from .clips import store_codes

        ids = [cid for cid, _ in self.top_clips(feature, n)]
        audio = model.codes_to_audio(store_codes(self.store, ids, clips, world=world_of(model)))
        return list(zip(ids, audio, strict=True))


@torch.no_grad()
def analyze(sae: SAE, store: Any, *, probes: bool = True, progress: bool = True) -> FeatureAnalysis:
    """One pass over the SAE's site and layer in row order (one shard in memory at a time)."""
    table = store.clips.to_pydict()
    n_clips, f = len(table["clip_id"]), sae.dict_size
    clip_of = row_clips(store)
    pooled = torch.zeros(n_clips, f, dtype=torch.float64)
    peak = torch.zeros(n_clips, f)
    fires = torch.zeros(f, dtype=torch.float64)
    act_sum = torch.zeros(f, dtype=torch.float64)
    hist = torch.zeros(f, len(HIST_EDGES) - 1, dtype=torch.float64)
    bar = tqdm(total=int(clip_of.numel()), desc=f"SAE features {sae.site} L{sae.layer}", disable=not progress)
    for rows, x in ordered_frames(store, sae.site, sae.layer, sae.head):
        acts = sae.encode(x).cpu()
        clips = clip_of[rows]
        pooled.index_add_(0, clips, acts.double())
        peak.scatter_reduce_(0, clips[:, None].expand_as(acts), acts, "amax")
        on = acts > 0
        fires += on.sum(0).double()
        act_sum += acts.sum(0).double()
        feat = on.nonzero()[:, 1]
        bins = (torch.bucketize(acts[on], HIST_EDGES) - 1).clamp(0, len(HIST_EDGES) - 2)
        hist.index_put_((feat, bins), torch.ones_like(feat, dtype=torch.float64), accumulate=True)
        bar.update(x.shape[0])
    bar.close()
    n_rows = torch.tensor(table["n_rows"], dtype=torch.float64).clamp_min(1)
    labels = {c[len("label_"):]: torch.tensor(v, dtype=torch.float32) for c, v in table.items()
              if c.startswith("label_")}
    concepts = binary_concepts(labels)
    pooled = (pooled / n_rows[:, None]).float()
    auc = {c: rank_auc(pooled, labels[c]) for c in concepts}
    cos = cosines(sae, concept_directions(sae, store, concepts, probes=probes))
    total = max(int(clip_of.numel()), 1)
    return FeatureAnalysis(sae=sae, store=store, clip_ids=table["clip_id"], labels=labels, pooled=pooled, peak=peak,
                           density=(fires / total).float(), mean_active=(act_sum / fires.clamp_min(1)).float(),
                           hist=hist.float(), auc=auc, cos=cos)


MAX_SET = 256  # the most features a set may hold


def select_features(analysis: Any, concept: str, n_features: int = 1, min_auc: float | None = None) -> list[int]:
    """The concept's features in ranking order (``analysis.best``): the top ``n_features``, or, with
    ``min_auc``, every feature whose AUC reaches it (at most :data:`MAX_SET`)."""
    if min_auc is None:
        return analysis.best(concept, n_features)
    auc = analysis.auc[concept].nan_to_num(0.0)
    ranked = analysis.best(concept, min(int(auc.numel()), MAX_SET))
    chosen = [f for f in ranked if float(auc[f]) >= min_auc]
    if not chosen:
        raise SAEConfigError(f"min_auc: no feature reaches AUC {min_auc} for {concept!r} "
                                 f"(the best has {float(auc.max()):.3f})")
    return chosen
