"""``musicinterp demo``: the main job on the model organism, end to end.

collect -> probes -> heatmaps -> fit every steering method -> compare them
against ground truth -> table, figures (HTML) and audio (WAV) in one folder.
On a model other than the organism it traces and prints an activation summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from .models import load_model
from .models.musicgen import MusicGen
from .summary import summarise_activations


def run_demo(out: str | Path = "musicinterp_out", *, model_spec: str | None = None, quick: bool = False) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(model_spec or "organism")
    if model.source != "organism":
        return _activation_summary(model, out, quick)
    return run_comparison_job(out, model=model, quick=quick)


def _activation_summary(model: MusicGen, out: Path, quick: bool) -> dict:
    print(f"model: {model.name} ({model.n_layers} layers x {model.n_heads} heads, fingerprint {model.fingerprint})")
    gen = torch.Generator().manual_seed(0)
    codes = torch.randint(0, model.codebook_size, (4, model.n_codebooks, 50 if quick else 100), generator=gen)
    summary = summarise_activations(model, codes)
    print(summary.table())
    report = {"model": model.name, "fingerprint": model.fingerprint,
              "attn_z_rms": summary.head_rms.tolist(), "resid_rms": summary.resid_rms.tolist()}
    (out / "activation_summary.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {out / 'activation_summary.json'}")
    return report


def build_steerers(store, target: str, remove: bool = False) -> dict[str, Any]:
    """Every method with organism-sized settings; head methods under both frame policies.

    Calibrated on the organism: SMITIN acts every 2 steps (at the paper's s = 5 it needs
    strengths that break the world's grammar; ``smitin-s5`` shows it), and the residual
    methods act at the last layer (earlier layers' vectors do not add drums at any
    strength that keeps other concepts still).
    """
    last = [store.n_layers - 1]
    from .steering import (
        DiffMeansConfig,
        DiffMeansSteerer,
        ITIConfig,
        ITISteerer,
        RegressionConfig,
        RegressionSteerer,
        SMITINConfig,
        SMITINSteerer,
    )

    return {
        "iti": ITISteerer.fit(store, target, ITIConfig(k=8, remove=remove)),
        "iti-last": ITISteerer.fit(store, target, ITIConfig(k=8, pooling="last", remove=remove)),
        "smitin": SMITINSteerer.fit(store, target, SMITINConfig(remove=remove, monitor_heads=8, interval=2)),
        "smitin-last": SMITINSteerer.fit(store, target, SMITINConfig(pooling="last", remove=remove, monitor_heads=8,
                                                                     interval=2)),
        "smitin-s5": SMITINSteerer.fit(store, target, SMITINConfig(remove=remove, monitor_heads=8, interval=5)),
        "diffmeans": DiffMeansSteerer.fit(store, target, DiffMeansConfig(remove=remove, layers=last)),
        "regression": RegressionSteerer.fit(store, target, RegressionConfig(remove=remove, layers=last)),
    }


def run_comparison_job(out: str | Path, *, model: MusicGen | None = None, target: str = "drums", n: int = 16,
                       quick: bool = False, remove: bool = False) -> dict:
    """The organism pipeline for one target concept; writes everything under ``out``."""
    from .collect import collect
    from .compare import DEFAULT_SWEEPS, run_comparison
    from .data.audio import write_wav
    from .organism.concept_sets import balanced_set
    from .organism.world import CONCEPTS
    from .probes import fit_probe_bank
    from .steering import steer
    from .views.offline import save_figure_html
    from .views.probes import concept_grid, head_heatmap, layer_accuracy_curve
    from .views.steering import comparison_table, markdown_table, monitor_trace_figure, success_vs_fidelity

    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = model or load_model("organism")
    n = 16 if quick else n
    print(f"[1/5] collecting activations of {'96' if quick else '256'} organism clips (attn_z, resid)")
    clip_set = balanced_set(target, 96 if quick else 256, seed=7)
    store = collect(model, clip_set, ["attn_z", "resid"], out=out / f"store_{target}", frames="pooled",
                    overwrite=True, batch_size=32)

    print("[2/5] fitting probe banks for every planted concept")
    banks = {c: fit_probe_bank(store, c, "attn_z") for c in CONCEPTS}
    resid_banks = [fit_probe_bank(store, c, "resid") for c in CONCEPTS]
    figs = out / "figures"
    figs.mkdir(exist_ok=True)
    save_figure_html(concept_grid(list(banks.values())), figs / "probe_heatmaps.html")
    save_figure_html(head_heatmap(banks[target], sort=True), figs / f"probe_heatmap_{target}_sorted.html")
    save_figure_html(layer_accuracy_curve(resid_banks), figs / "probe_layers.html")
    best_heads = {c: b.best(1)[0] for c, b in banks.items()}
    for c, (idx, acc) in best_heads.items():
        print(f"      {c:7s} best head L{idx[0]}H{idx[1]} accuracy {acc:.3f}")

    print(f"[3/5] fitting ITI, SMITIN, difference-in-means and regression steering for {target!r}")
    steerers = build_steerers(store, target, remove=remove)
    for name, st in steerers.items():
        st.save(out / "steerers" / name)

    print(f"[4/5] comparing methods on {n} generations per task and strength")
    sweeps = {k: v[1:3] for k, v in DEFAULT_SWEEPS.items()} if quick else None  # quick: two strengths each
    comp = run_comparison(model, steerers, target, add=not remove, n=n, sweeps=sweeps)
    rows = [{k: v for k, v in r.items() if k not in ("collateral_by_concept", "result")} for r in comp.rows]
    best = {task: comp.best(task) for task in comp.unsteered}
    table_rows = []
    for task in comp.unsteered:
        table_rows.append({k: v for k, v in comp.unsteered[task].items() if k != "collateral_by_concept"})
        table_rows.extend({k: v for k, v in r.items() if k != "collateral_by_concept"} for r in best[task])
    md = markdown_table(table_rows)
    print(md)
    (out / "comparison.md").write_text(md + "\n")
    (out / "comparison.json").write_text(json.dumps({"rows": rows, "unsteered": {
        t: {k: v for k, v in r.items() if k != "collateral_by_concept"} for t, r in comp.unsteered.items()}},
        indent=1))
    save_figure_html(comparison_table(table_rows), figs / "comparison_table.html")
    for task in comp.unsteered:
        save_figure_html(success_vs_fidelity(rows, task), figs / f"success_vs_fidelity_{task}.html")

    print("[5/5] rendering audio and the SMITIN monitor trace")
    from .compare import organism_tasks

    cont = organism_tasks(target, n=4, seed=99, add=not remove)[0]
    audio = out / "audio"
    base = steer(model, [], seed=0, **cont.kwargs)
    for i, wav in enumerate(base.audio):
        write_wav(audio / f"continuation_{i}_unsteered.wav", wav, model.sample_rate)
    for entry in best["continuation"]:
        res = steer(model, steerers[entry["method"]], strength=entry["strength"], seed=0, **cont.kwargs)
        for i, wav in enumerate(res.audio):
            write_wav(audio / f"continuation_{i}_{entry['method']}.wav", wav, model.sample_rate)
        for name, trace in res.monitors.items():
            save_figure_html(monitor_trace_figure(trace, title=f"{entry['method']} monitor ({name})"),
                             figs / f"monitor_{entry['method']}.html")
    minutes = (time.perf_counter() - t0) / 60
    print(f"done in {minutes:.1f} min; outputs in {out}")
    return {"best": best, "unsteered": comp.unsteered, "minutes": minutes,
            "best_heads": {c: [list(i), a] for c, (i, a) in best_heads.items()}}
