"""``evaluate``: how well an SAE reconstructs its site and what splicing it in costs the model.

Reported as SAELens does: fraction of variance explained (``1 - SSE / SST``
over all frames, SST about the mean), L0, dead and dense fractions, the
feature density histogram, the l2 ratio ``mean ||x_hat|| / ||x||``, and the
spliced scores. For those, clips of the store are traced teacher-forced three
times: clean, with the SAE's reconstruction in place of the activation, and
with the activation zeroed; then, with CE the next-code cross-entropy
(nats per frame, summed over codebooks) and KL to the clean model's
distribution::

    ce_loss_score = (CE_zero - CE_sae) / (CE_zero - CE_clean)
    kl_div_score  = (KL_zero - KL_sae) / KL_zero

per codebook as well (on the organism: lead, drums, brightness, bass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from ..data.concept_set import ConceptSet
from ..engine.frames import select_positions
from ..engine.tracing import trace_codes
from ..errors import InputError
from ..models.musicgen import MusicGen
from ..models.sources import world_of
from .artifact import SAE
from .clips import pick_clips, store_codes
from .frames import ordered_frames, stride_for
from .splice import splice, zero_ablate


@dataclass
class SAEEvaluation:
    """Reconstruction and spliced-model scores of one SAE (see the module docstring)."""

    sae: str
    n_frames: int
    n_clips: int
    fve: float
    l0: float
    dead_fraction: float
    dense_fraction: float
    l2_ratio: float
    density: torch.Tensor  # (dict_size,) fraction of frames each feature fires on
    ce_clean: float
    ce_sae: float
    ce_zero: float
    ce_loss_score: float
    kl_sae: float
    kl_zero: float
    kl_div_score: float
    per_codebook: list[dict[str, Any]] = field(default_factory=list)
    dense_threshold: float = 0.1

    @property
    def most_damaged_codebook(self) -> str:
        """The codebook whose cross-entropy the SAE recovers least."""
        scored = [c for c in self.per_codebook if not math.isnan(c["ce_loss_score"])]
        return min(scored, key=lambda c: c["ce_loss_score"])["codebook"] if scored else "none"

    def summary(self) -> dict[str, Any]:
        return {"fve": self.fve, "l0": self.l0, "dead_fraction": self.dead_fraction,
                "dense_fraction": self.dense_fraction, "l2_ratio": self.l2_ratio, "ce_clean": self.ce_clean,
                "ce_sae": self.ce_sae, "ce_zero": self.ce_zero, "ce_loss_score": self.ce_loss_score,
                "kl_sae": self.kl_sae, "kl_zero": self.kl_zero, "kl_div_score": self.kl_div_score,
                "most_damaged_codebook": self.most_damaged_codebook, "n_frames": self.n_frames,
                "n_clips": self.n_clips}

    def __repr__(self) -> str:
        return (f"SAEEvaluation(FVE {self.fve:.3f}, L0 {self.l0:.1f}, dead {self.dead_fraction:.1%}, dense "
                f"{self.dense_fraction:.1%}, ce_loss_score {self.ce_loss_score:.3f}, kl_div_score "
                f"{self.kl_div_score:.3f}; least recovered codebook: {self.most_damaged_codebook})")

    def to_pandas(self):
        """One row for all codebooks together, then one per codebook."""
        import pandas as pd

        whole = {"codebook": "all", **{k: v for k, v in self.summary().items() if k != "most_damaged_codebook"}}
        return pd.DataFrame([whole, *self.per_codebook]).set_index("codebook")


def evaluate(sae: SAE, store: Any, model: MusicGen, *, n_clips: int = 32, n_frames: int = 65536,
             clips: ConceptSet | torch.Tensor | None = None, batch_size: int = 8, dense_threshold: float = 0.1,
             seed: int = 0, progress: bool = True) -> SAEEvaluation:
    """Reconstruction metrics on about ``n_frames`` stored frames and spliced scores on ``n_clips`` clips.

    Clips are drawn from the store's clips by ``seed``; their codes are regenerated
    (organism stores) or taken from ``clips`` (the concept set the store was collected
    from, or its codes in store order).
    """
    sae.check_model(model)
    recon = reconstruction_metrics(sae, store, n_frames=n_frames, dense_threshold=dense_threshold)
    ids = pick_clips(store, n_clips, seed=seed)
    codes = store_codes(store, ids, clips, world=world_of(model))
    spliced = spliced_scores(sae, model, codes, frames=store.meta.get("frames", "valid"),
                             text=store.meta.get("text"), batch_size=batch_size, progress=progress)
    return SAEEvaluation(sae=repr(sae), n_clips=len(ids), dense_threshold=dense_threshold, **recon, **spliced)


@torch.no_grad()
def reconstruction_metrics(sae: SAE, store: Any, *, n_frames: int | None = 65536,
                           dense_threshold: float = 0.1) -> dict[str, Any]:
    """FVE, L0, dead/dense fractions, density and l2 ratio over about ``n_frames`` frames (evenly spaced rows)."""
    fires = torch.zeros(sae.dict_size, dtype=torch.float64)
    sse = s2 = l0 = l2 = 0.0
    sum_x = torch.zeros(sae.d_in, dtype=torch.float64)
    n = 0
    for _, x in ordered_frames(store, sae.site, sae.layer, sae.head, every=stride_for(store, n_frames)):
        f = sae.encode(x)
        x_hat = sae.decode(f).to(x.dtype)
        sse += float((x - x_hat).double().pow(2).sum())
        s2 += float(x.double().pow(2).sum())
        sum_x += x.double().sum(0)
        active = f != 0
        fires += active.sum(0).double().cpu()
        l0 += float(active.sum())
        l2 += float((x_hat.norm(dim=-1) / x.norm(dim=-1).clamp_min(1e-12)).double().sum())
        n += x.shape[0]
    if n == 0:
        raise InputError(f"store {store.root} holds no frames at {sae.site} layer {sae.layer}")
    sst = s2 - float(sum_x.pow(2).sum()) / n
    density = (fires / n).float()
    return {"n_frames": n, "fve": 1 - sse / sst, "l0": l0 / n, "dead_fraction": float((density == 0).float().mean()),
            "dense_fraction": float((density > dense_threshold).float().mean()), "l2_ratio": l2 / n,
            "density": density}


@torch.no_grad()
def spliced_scores(sae: SAE, model: MusicGen, codes: torch.Tensor, *, frames: Any = "valid", text: str | None = None,
                   batch_size: int = 8, progress: bool = True) -> dict[str, Any]:
    """Teacher-forced CE and KL: clean, SAE spliced in at the positions the store keeps, and zero-ablated."""
    k, t = model.n_codebooks, codes.shape[-1]
    positions = select_positions(tuple(frames) if isinstance(frames, list) else frames, t, k)
    ce = {m: torch.zeros(k, dtype=torch.float64) for m in ("clean", "sae", "zero")}
    kl = {m: torch.zeros(k, dtype=torch.float64) for m in ("sae", "zero")}
    count = 0
    runs = {"sae": [splice(sae, positions)], "zero": [zero_ablate(sae, positions)]}
    for i in tqdm(range(0, codes.shape[0], batch_size), desc="spliced scores", disable=not progress):
        c = codes[i : i + batch_size]
        cond = model.conditioning(text=[text] * c.shape[0]) if text else None
        logp = {"clean": _frame_logp(model, c, cond, [])}
        for mode, ivs in runs.items():
            logp[mode] = _frame_logp(model, c, cond, ivs)
        target = c.to(logp["clean"].device).unsqueeze(-1)
        for mode, lp in logp.items():
            ce[mode] -= lp.gather(-1, target).squeeze(-1).double().sum(dim=(0, 2)).cpu()
        p_clean = logp["clean"].exp()
        for mode in kl:
            kl[mode] += (p_clean * (logp["clean"] - logp[mode])).sum(-1).double().sum(dim=(0, 2)).cpu()
        count += c.shape[0] * t
    ce = {m: v / count for m, v in ce.items()}
    kl = {m: v / count for m, v in kl.items()}
    out: dict[str, Any] = {"ce_clean": float(ce["clean"].sum()), "ce_sae": float(ce["sae"].sum()),
                           "ce_zero": float(ce["zero"].sum()), "kl_sae": float(kl["sae"].sum()),
                           "kl_zero": float(kl["zero"].sum())}
    out["ce_loss_score"] = _score(out["ce_zero"] - out["ce_sae"], out["ce_zero"] - out["ce_clean"])
    out["kl_div_score"] = _score(out["kl_zero"] - out["kl_sae"], out["kl_zero"])
    out["per_codebook"] = [
        {"codebook": name, "ce_clean": float(ce["clean"][j]), "ce_sae": float(ce["sae"][j]),
         "ce_zero": float(ce["zero"][j]), "ce_loss_score": _score(float(ce["zero"][j] - ce["sae"][j]),
                                                                   float(ce["zero"][j] - ce["clean"][j])),
         "kl_sae": float(kl["sae"][j]), "kl_zero": float(kl["zero"][j]),
         "kl_div_score": _score(float(kl["zero"][j] - kl["sae"][j]), float(kl["zero"][j]))}
        for j, name in enumerate(world_of(model).codebook_names(model.n_codebooks))]
    return out


def _frame_logp(model: MusicGen, codes: torch.Tensor, cond: Any, interventions: list) -> torch.Tensor:
    logits = trace_codes(model, codes, cond=cond, interventions=interventions).logits
    return torch.log_softmax(model.logits_to_frames(logits, codes.shape[-1]).float(), dim=-1)


def _score(num: float, den: float) -> float:
    return num / den if abs(den) > 1e-9 else float("nan")
