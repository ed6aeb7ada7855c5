"""A report of one activation store: what it holds and how well each concept is linearly readable.

Contents: provenance from the store's metadata (model, fingerprint, digest), a table
of its sites and shapes, the label balance per concept and split, and probe
accuracy views (layer x head heatmaps for head sites, per-layer curves otherwise)
for every binary concept. Probes are fitted here (seconds on an organism store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReportError
from .provenance import Provenance
from .report import Report


def _balance_rows(store: Any) -> list[dict[str, Any]]:
    table = store.clips
    splits = np.asarray(table.column("split").to_pylist(), dtype=object)
    rows = []
    for concept in store.concepts:
        labels = table.column(f"label_{concept}").to_numpy(zero_copy_only=False).astype(float)
        for split in sorted(set(splits.tolist())):
            y = labels[splits == split]
            y = y[np.isfinite(y)]
            rows.append({"concept": concept, "split": split, "clips": int(y.size),
                         "mean label": float(y.mean()) if y.size else None})
    return rows


def _binary(store: Any, concept: str) -> bool:
    y = store.clips.column(f"label_{concept}").to_numpy(zero_copy_only=False).astype(float)
    y = y[np.isfinite(y)]
    return y.size > 0 and set(np.unique(y).tolist()) <= {0.0, 1.0} and len(np.unique(y)) == 2


def store_report(folder: str | Path, *, title: str | None = None, audio_budget_mb: float = 20.0,
                 probes: bool = True) -> Report:
    """A ``Report`` describing the store in ``folder``; ``probes=False`` skips probe fitting."""
    from ..store import ActivationStore

    try:
        store = ActivationStore.open(folder)
    except (RuntimeError, ValueError) as err:
        raise ReportError(f"cannot open the activation store {folder}: {err}") from err
    meta = store.meta
    prov = Provenance.collect(store=store, command=None, clips=meta.get("n_clips"))
    report = Report(title or f"Activation store {Path(folder).resolve().name}", prov,
                    audio_budget_mb=audio_budget_mb)
    sites = [{"site": s, "shape per layer": str(tuple(store.site_shape(s))), "layers": store.n_layers}
             for s in store.sites]
    report.add(sites, section="Store", title="sites",
               caption=f"{meta.get('n_clips')} clips, {meta.get('n_rows', 0)} frame rows.")
    report.add(_balance_rows(store), section="Store", title="labels per split")
    if not probes:
        return report
    from ..probes import fit_probe_bank
    from ..views.probes import concept_grid, layer_accuracy_curve

    binary = [c for c in store.concepts if _binary(store, c)]
    for site in store.sites:
        banks = [fit_probe_bank(store, c, site) for c in binary]
        if not banks:
            break
        if len(banks[0].grid) == 2:
            report.add(concept_grid(banks), section="Probes", caption=f"Validation accuracy of one logistic probe "
                       f"per head at `{site}`, mean-pooled over frames; heads sorted per layer.")
        else:
            report.add(layer_accuracy_curve(banks), section="Probes",
                       caption=f"Validation accuracy of one logistic probe per layer at `{site}`.")
    return report
