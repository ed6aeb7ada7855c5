"""SAE feature sets for steering: choose features by AUC, and the precision tensors of the ``add`` mode.

A concept is often carried by several features (and which one ranks first can
change between SAE seeds while the set is stable), so the SAE steerer steers a
*set*: the features whose AUC for the concept reaches ``min_auc`` (in ranking
order), or the top ``n_features``. ``add`` moves along their decoder rows
with the reconstruction error kept (nothing is encoded or decoded); with a
keep-set those rows are projected off the kept concepts' directions at the
SAE's site, and a bounded edit moves the activation toward the concept's class
level on all of them at once (:func:`~musicinterp.steering.bounded.joint_edit`).
"""

from __future__ import annotations

from typing import Any

import torch

from ..sae.features import MAX_SET, select_features  # noqa: F401  (re-exported)
from .bounded import class_levels, target_tensors, unit
from .configs import SteererConfigError
from .keep import apply_keep, check_keep, keep_store_for, mass_mean_directions


def site_matrix(store: Any, sae: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Per-clip pooled activations at the SAE's input ``(N, d_in)`` and the store's labels."""
    view = store.probe_view(sae.site, "mean")
    x = view.x[:, sae.layer].float()
    x = x[:, sae.head] if sae.head is not None else x.reshape(x.shape[0], -1)
    if x.shape[-1] != sae.d_in:
        raise SteererConfigError(f"store {store.root}: {sae.site} layer {sae.layer} has width {x.shape[-1]}, "
                                 f"the SAE reads {sae.d_in}")
    return x, view.labels


def add_tensors(store: Any, concept: str, config: Any, sae: Any, feats: list[int], keep_store: Any = None
                ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The ``add`` mode's directions in model units (``steer_dirs``, projected off ``config.keep``), their
    cosines with the kept directions and the class levels along them: ``(tensors, meta)``."""
    dirs = (sae.directions[:, feats].T * sae.norm_factor).float()  # (n, d_in)
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    if config.keep:
        check_keep(concept, config.keep)
        source = keep_store_for(store, keep_store)
        if source.meta.get("model_fingerprint") != sae.model_fingerprint:
            raise SteererConfigError(f"keep: store {source.root} holds another model's activations")
        xk, labels = site_matrix(source, sae)
        kept = mass_mean_directions(xk[:, None], labels, config.keep, where=f"store {source.root}")
        dirs, tensors = apply_keep(dirs, kept.expand(len(feats), -1, -1), unit=False)
        meta = {"keep": list(config.keep), "keep_store": str(source.root), "keep_groups": [f"f{f}" for f in feats]}
        tensors["steer_dirs"] = dirs
    x, labels = site_matrix(store, sae)
    if concept in labels:
        u = unit(dirs)
        tensors.update(target_tensors(*class_levels(x[:, None].expand(-1, len(feats), -1), labels[concept], u)))
    return tensors, meta
