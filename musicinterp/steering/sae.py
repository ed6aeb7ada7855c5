"""SAE-feature steering: edit chosen features of a sparse autoencoder at its site during generation.

Modes (``when``: ``"always"`` or only at positions where the feature is active):

* ``add``: ``x += s * typical_i * d_i`` for each chosen feature ``i``, with
  ``d_i`` its decoder column in model units (never a decoded one-hot, which
  would add ``b_dec``) and ``typical_i`` its mean activation where it fires:
  strength 1 adds the feature as strongly as it usually appears.
* ``clamp``: ``f_i := s * typical_i``; ``scale``: ``f_i := s * f_i``;
  ``ablate``: ``f_i := (1 - s) * f_i`` (strength 1 removes the feature).

For clamp/scale/ablate the reconstruction error is kept by default,
``x + decode(f') - decode(f)`` (only the edited features move x); with
``keep_error=False`` the activation becomes ``decode(f')``, which also throws
away everything the SAE does not reconstruct. Features are given by hand or
chosen by their selectivity (AUC of the clip-pooled activation) for the
concept. The whole SAE travels inside the steerer artifact.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from ..engine.interventions import Intervention, StepContext, StepWindow
from ..errors import InputError
from ..models.musicgen import MusicGen
from .base import Steerer, SteerRun
from .bounded import joint_edit, joint_map, target_of, unit
from .configs import SteererConfig, SteererConfigError, deprecated_alias, steerer_config
from .monitor import Monitor
from .sae_sets import add_tensors, select_features
from .spec import ApplySpec

MODES = ("add", "clamp", "scale", "ablate")
WHEN = ("always", "when_active")
_SAE_KEYS = ("encoder.weight", "encoder.bias", "decoder.weight", "b_dec", "k", "threshold")


@steerer_config
class SAESteererConfig(SteererConfig):
    """SAE-feature steering settings (was ``SAEConfig``). ``strength`` (alias ``alpha=``, deprecated):
    add/clamp: multiples of the typical activation; scale: factor; ablate: fraction removed.

    Default 4, inside the comparison's sweep 0.5-4 (clamp alpha 4 adds drums; alpha 2
    keeps validity higher, README "SAE features").
    """

    sae: Any = None  # an SAE, or the folder of a saved one
    features: list[int] | None = None  # None: the n_features most selective for the concept
    n_features: int = 1
    mode: str = "add"
    when: str = "always"
    strength: float = 4.0
    keep_error: bool = True
    remove: bool = False  # add: subtract the directions (clamp/scale/ablate say their own direction)
    min_auc: float | None = None  # steer every feature whose AUC for the concept reaches this (a feature set)
    keep: tuple[str, ...] = ()  # mode add: decoder rows projected off these concepts' directions
    edit: str = "add"  # mode add: "bounded" moves the activation toward the class level on the rows (beta)

    def validate(self) -> None:
        self.one_of("mode", MODES)
        self.one_of("when", WHEN)
        self.at_least("n_features", 1)
        if self.min_auc is not None and not 0 <= self.min_auc <= 1:
            self.fail("min_auc", "must be None or an AUC in [0, 1]")
        for name, unset in (("keep", ()), ("edit", "add")):
            if getattr(self, name) != unset and (self.mode, self.when) != ("add", "always"):
                self.fail(name, "works with mode='add', when='always' only (edits along decoder rows)")
        if self.features is not None and (not self.features or min(self.features) < 0):
            self.fail("features", "must be None or a non-empty list of feature indices >= 0")
        if self.remove and self.mode != "add":
            self.fail("remove", f"only flips mode 'add'; to remove a feature use mode='ablate' (or 'scale' with "
                                f"strength < 1), not remove=True with mode={self.mode!r}")


class SAESteerer(Steerer):
    """``strength`` is alpha (its meaning depends on the mode; see the module docstring)."""

    method = "sae"
    strength_name = "alpha"
    config_class = SAESteererConfig
    spec_fields = frozenset({"rows", "start", "stop", "every"})
    required_tensors = ("features", "typical", *(f"sae.{k}" for k in _SAE_KEYS))

    @classmethod
    def fit(cls, store: Any, concept: str, config: SAESteererConfig | None = None, spec: ApplySpec | None = None, *,
            analysis: Any = None, keep_store: Any = None) -> SAESteerer:
        """Choose features (by hand, or by selectivity for ``concept``) and record their typical activations.

        ``analysis`` reuses a :func:`musicinterp.sae.analyze` result of the same SAE and store; kept
        concepts' directions come from ``keep_store`` when given.
        """
        from ..sae import SAE, load
        from ..sae.features import analyze

        config = config or SAESteererConfig()
        if config.sae is None:
            raise SteererConfigError("SAESteererConfig.sae is required: an SAE or the folder of a saved one")
        sae = config.sae if isinstance(config.sae, SAE) else load(config.sae)
        if sae.model_fingerprint != store.meta["model_fingerprint"]:
            raise InputError(f"SAE was trained on model {sae.model_id!r}, the store holds {store.meta['model_id']!r}")
        analysis = analysis if analysis is not None else analyze(sae, store, probes=False, progress=False)
        if config.features is not None:
            feats = [int(f) for f in config.features]
            for f in feats:
                sae._check_feature(f)
        else:
            feats = select_features(analysis, concept, config.n_features, config.min_auc)
        if not feats:
            raise SteererConfigError("SAESteererConfig.features is empty: choose at least one feature")
        idx = torch.tensor(feats)
        tensors = {"features": idx, "typical": analysis.mean_active[idx].clone()}
        if concept in analysis.labels:
            y = analysis.labels[concept]
            tensors["pos_mean"] = analysis.pooled[y == 1][:, idx].mean(0)
            tensors["neg_mean"] = analysis.pooled[y == 0][:, idx].mean(0)
            tensors["auc"] = analysis.auc[concept][idx].clone() if concept in analysis.auc else torch.zeros(len(feats))
        tensors.update({f"sae.{k}": v.detach().cpu().clone() for k, v in sae.ae.state_dict().items()})
        extra, keep_meta = add_tensors(store, concept, config, sae, feats, keep_store) if config.mode == "add" else ({}, {})
        tensors.update(extra)
        where = str(config.sae) if isinstance(config.sae, (str, Path)) else sae.meta.get("saved_to", "in memory")
        saved = dataclasses.replace(config, sae=where, features=feats)
        return cls(concept=concept, site=sae.site, tensors=tensors, config=saved, model_fingerprint=sae.model_fingerprint,
                   model_id=sae.model_id, spec=cls.fit_spec(ApplySpec(rows="both"), spec),
                   meta={"sae": {"arch": sae.arch, "norm_factor": sae.norm_factor, "layer": sae.layer,
                                 "head": sae.head, "d_in": sae.d_in, "dict_size": sae.dict_size, "k": sae.k,
                                 "store_digest": sae.store_digest}, "store": str(store.root), **keep_meta})

    # ------------------------------------------------------------------ the SAE inside
    def sae(self):
        """The SAE this steerer carries (rebuilt from its tensors)."""
        if getattr(self, "_sae", None) is None:
            from ..sae import SAE
            from ..sae.architectures import empty_dictionary

            m = self.meta["sae"]
            ae = empty_dictionary(m["arch"], m["d_in"], m["dict_size"], m["k"])
            ae.load_state_dict({k: self.tensors[f"sae.{k}"] for k in _SAE_KEYS})
            self._sae = SAE(ae=ae.eval(), arch=m["arch"], norm_factor=float(m["norm_factor"]), site=self.site,
                            layer=int(m["layer"]), head=m["head"], model_fingerprint=self.model_fingerprint,
                            model_id=self.model_id, store_digest=m["store_digest"], training={})
        return self._sae

    @property
    def features(self) -> list[int]:
        return self.tensors["features"].tolist()

    def monitor(self, *, tau: float | None = None, warmup: int = 25, frames: int | None = 50,
                latch: bool = False) -> SAEFeatureMonitor:
        """A schedule whose reading is the chosen features' activation (running mean over ``frames``)."""
        if "pos_mean" not in self.tensors:
            raise InputError(f"the store has no labels for {self.concept!r}: a feature monitor needs its class means")
        return SAEFeatureMonitor(self.sae(), self.features, self.tensors["pos_mean"], self.tensors["neg_mean"],
                                 tau=tau, warmup=warmup, frames=frames, flip=self.remove or self.config.mode ==
                                 "ablate" or (self.config.mode == "scale" and self.strength < 1), latch=latch)

    # ------------------------------------------------------------------ edits
    def build(self, model: MusicGen, run: SteerRun) -> list[Intervention]:
        from ..sae.splice import from_sae, site_kwargs, to_sae

        sae = self.sae()
        feats = self.tensors["features"]
        dirs = sae.directions[:, feats].T * sae.norm_factor  # (n, d_in) decoder columns in model units
        dirs = self.tensors.get("steer_dirs", dirs)  # projected off a keep-set
        typical = self.tensors["typical"]
        mode, when, keep_error = self.config.mode, self.config.when, self.config.keep_error
        if self.config.edit == "bounded":
            return [self._bounded(run, unit(dirs.float()))]

        def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
            gate = run.scale(x, ctx)  # (rows, 1, ...) strength per row, 0 where this steerer does not act
            flat = to_sae(x, sae).float()  # (rows, positions, d_in)
            s = gate.reshape(-1, *([1] * (flat.dim() - 1))).float()
            d = run.cached("dirs", dirs, flat)
            typ = run.cached("typical", typical, flat)
            if mode == "add" and when == "always":
                new = flat + run.sign * s * (typ @ d)
            else:
                f = sae.encode(flat).to(flat.device)
                old = f[..., feats.to(flat.device)]
                if mode == "add":
                    new_f = old + run.sign * s * typ
                elif mode == "clamp":
                    new_f = (s * typ).expand_as(old)
                elif mode == "scale":
                    new_f = s * old
                else:  # ablate
                    new_f = (1 - s.clamp(0, 1)) * old
                if when == "when_active":
                    new_f = torch.where(old > 0, new_f, old)
                if keep_error:
                    new = flat + (new_f - old) @ d
                else:
                    full = f.clone()
                    full[..., feats.to(flat.device)] = new_f
                    new = sae.decode(full).to(flat.device)
            return torch.where(gate != 0, from_sae(new, x, sae), x)

        return [Intervention(sae.site, sae.layer, edit, rows=run.rows, steps=run.window,
                             name=f"sae-{mode}@{sae.site}{sae.layer}", **site_kwargs(sae))]


    def _bounded(self, run: SteerRun, u: torch.Tensor) -> Intervention:
        """The joint affine edit toward the class level on every chosen decoder row."""
        from ..sae.splice import from_sae, site_kwargs, to_sae

        sae, target, mapped = self.sae(), target_of(self.tensors, self.remove, self.method), joint_map(u)

        def edit(x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
            beta = run.scale(x, ctx)
            flat = to_sae(x, sae).float()
            beta = beta.reshape(-1, *([1] * (flat.dim() - 1))).float()
            new = joint_edit(flat, run.cached("u", u, flat), run.cached("t", target, flat),
                             run.cached("map", mapped, flat), beta)
            return torch.where(beta.reshape(-1, *([1] * (x.dim() - 1))) != 0, from_sae(new, x, sae), x)

        return Intervention(sae.site, sae.layer, edit, rows=run.rows, steps=run.window,
                            name=f"sae-bounded@{sae.site}{sae.layer}", **site_kwargs(sae))


class SAEFeatureMonitor(Monitor):
    """Reads the SAE's site live; its reading is the chosen features' running-mean activation relative to clips
    that hold the concept (``1`` = as active as there), clamped to ``[0, 1]``.

    tau defaults to the midpoint between the concept's negative and positive clips on that scale.
    """

    def __init__(self, sae: Any, features: list[int], pos_mean: torch.Tensor, neg_mean: torch.Tensor, *,
                 tau: float | None = None, frames: int | None = 50, **kw: Any) -> None:
        self.sae_ = sae
        self.features = list(features)
        self.pos = pos_mean.float().clamp_min(1e-6)
        self.neg = neg_mean.float()
        self.frames = frames
        ratio = float((self.neg / self.pos).clamp(0, 1).mean())
        flip = kw.get("flip", False)
        default = (1 + ratio) / 2
        super().__init__(tau=tau if tau is not None else (1 - default if flip else default), **kw)

    def reset_features(self) -> None:
        self.history: list[torch.Tensor] = []
        self.current: torch.Tensor | None = None

    def read_interventions(self, window: StepWindow) -> list[Intervention]:
        from ..sae.splice import site_kwargs, to_sae

        sae = self.sae_

        def read(x: torch.Tensor, ctx: StepContext) -> None:
            f = sae.encode(to_sae(x[:, -1:], sae).float())[:, 0, self.features]  # (B, n)
            self.current = f

        return [Intervention(sae.site, sae.layer, read, rows="cond", steps=window,
                             name=f"sae-monitor@{sae.site}{sae.layer}", **site_kwargs(sae))]

    def score(self) -> torch.Tensor:
        if self.current is None:
            raise RuntimeError("SAE monitor saw no activations this step (is its window inside the generation?)")
        self.history.append(self.current.clone())
        if self.frames is not None and len(self.history) > self.frames:
            self.history.pop(0)
        mean = torch.stack(self.history).mean(0)  # (B, n)
        return (mean / self.pos.to(mean.device)).clamp(0, 1).mean(-1)


__getattr__ = deprecated_alias(__name__, {"SAEConfig": ("SAESteererConfig", SAESteererConfig)})
