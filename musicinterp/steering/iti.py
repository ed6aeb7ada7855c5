"""Inference-Time Intervention (Li et al. 2023): top-K heads by probe accuracy, fixed strength every step.

Adds ``alpha * sigma_h * theta_h`` to each chosen head's ``attn_z`` at every
generated step, where ``theta_h`` is the unit mass-mean shift (or probe weight)
and ``sigma_h`` the std of training activations along it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..interventions import Intervention, StepContext
from ..models.musicgen import MusicGen
from ..probes import ProbeConfig, fit_probe_bank
from ..store.reader import ActivationStore
from .base import Prepared, Steerer
from .directions import head_directions
from .spec import ApplySpec, Constant, Schedule, StrengthLog


@dataclass
class ITIConfig:
    k: int = 48
    alpha: float = 15.0
    direction: str = "mass_mean"  # or "probe"
    pooling: str = "mean"  # probe frame policy: "mean" over valid frames or "last"
    C: float = 1.0
    remove: bool = False  # subtract the direction (remove the trait)


class ITISteerer(Steerer):
    method = "iti"

    @classmethod
    def fit(cls, store: ActivationStore, concept: str, config: ITIConfig | None = None,
            spec: ApplySpec | None = None) -> ITISteerer:
        cfg = config or ITIConfig()
        view = store.probe_view("attn_z", cfg.pooling)
        bank = fit_probe_bank(view, concept, "attn_z", config=ProbeConfig(C=cfg.C))
        n_heads = bank.grid[1]
        top = torch.argsort(bank.val_acc, descending=True)[: min(cfg.k, bank.n_groups)]
        dirs, sigma = head_directions(view, bank, concept, cfg.direction)
        heads = torch.stack([top // n_heads, top % n_heads], dim=1)
        return cls(concept=concept, site="attn_z",
                   tensors={"heads": heads, "directions": dirs[top], "sigma": sigma[top], "val_acc": bank.val_acc[top]},
                   config=asdict(cfg), model_fingerprint=store.meta["model_fingerprint"],
                   model_id=store.meta["model_id"], spec=spec or ApplySpec(rows="both"),
                   meta={"store": str(store.root), "n_heads": n_heads})

    def prepare(self, model: MusicGen, *, strength: float | None = None, schedule: Schedule | None = None,
                spec: ApplySpec | None = None) -> Prepared:
        self.check_model(model)
        spec = spec or self.spec
        alpha = self.config["alpha"] if strength is None else strength
        sign = -1.0 if self.config["remove"] else 1.0
        schedule = schedule or Constant()
        log = StrengthLog()
        heads = [tuple(h) for h in self.tensors["heads"].tolist()]
        if spec.heads is not None:
            keep = [i for i, h in enumerate(heads) if h in set(map(tuple, spec.heads))]
        else:
            keep = list(range(len(heads)))
        by_layer: dict[int, list[int]] = {}
        for i in keep:
            by_layer.setdefault(heads[i][0], []).append(i)
        ivs = []
        for layer, idx in sorted(by_layer.items()):
            delta = (self.tensors["sigma"][idx, None] * self.tensors["directions"][idx]) * sign  # (h, hd)
            head_ids = [heads[i][1] for i in idx]
            ivs.append(Intervention("attn_z", layer, _scaled_add(delta, alpha, schedule, log), heads=head_ids,
                                    rows=spec.rows, steps=spec.window, name=f"iti@L{layer}"))
        return Prepared(interventions=ivs, log=log)


def _scaled_add(delta: torch.Tensor, alpha: float, schedule: Schedule, log: StrengthLog):
    cache: dict[tuple, torch.Tensor] = {}

    def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        key = (x.device, x.dtype)
        if key not in cache:
            cache[key] = delta.to(x.device, x.dtype)
        s = alpha * schedule(ctx.step) if ctx.step >= 0 else alpha
        log.record(ctx.step, s)
        return x + s * cache[key]

    return edit
