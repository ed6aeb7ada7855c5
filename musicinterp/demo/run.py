"""``musicinterp demo``: the main job on the model organism, end to end.

collect -> probes -> heatmaps -> patching and ablation -> an SAE and its
features -> fit every steering method -> compare them against ground truth ->
one offline ``report.html`` (with the figures as JSON and the audio as WAV beside it).
On a model other than the organism it traces and prints an activation summary.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from ..data.audio import write_wav
from ..models import load_model
from ..models.musicgen import MusicGen
from ..models.sources import world_of
from ..steering.control import CONTROL_MARK, random_control
from .audio_check import agreement, clap_check
from .listen import calibrate_monitors, listen
from .narrative import ORDER, TITLES, captions, intros, summary
from .sections import ablation_section, demo_store, sae_section
from .summary import summarise_activations


def run_demo(out: str | Path = "musicinterp_out", *, model_spec: str | None = None, quick: bool = False) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(model_spec or "organism")
    if not world_of(model).exact:  # the comparison needs ground truth; other models get an activation summary
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


DEMO_FRAMES = 100  # 2 s prompts and generations in the demo's comparison (the benchmarks use 4 s)


def build_steerers(store, target: str, remove: bool = False, *, last_frame: bool = True) -> dict[str, Any]:
    """Every method with organism-sized settings; with ``last_frame`` the head methods also under the
    last-frame policy (``iti-last``, ``smitin-last``; the benchmark shows it, the demo leaves it out).

    Calibrated on the organism: SMITIN acts every 2 steps (at the paper's s = 5 it needs
    strengths that break the world's grammar; ``smitin-s5`` shows it), and the residual
    methods act at the last layer (earlier layers' vectors do not add drums at any
    strength that keeps other concepts still).
    """
    import musicinterp as mi

    last = [store.n_layers - 1]
    steerers = {
        "iti": mi.ITISteerer.fit(store, target, mi.ITIConfig(k=8, remove=remove)),
        "smitin": mi.SMITINSteerer.fit(store, target, mi.SMITINConfig(remove=remove, monitor_heads=8, interval=2)),
        "smitin-s5": mi.SMITINSteerer.fit(store, target, mi.SMITINConfig(remove=remove, monitor_heads=8, interval=5)),
        "diffmeans": mi.DiffMeansSteerer.fit(store, target, mi.DiffMeansConfig(remove=remove, layers=last)),
        "regression": mi.RegressionSteerer.fit(store, target, mi.RegressionConfig(remove=remove, layers=last)),
    }
    if last_frame:
        steerers["iti-last"] = mi.ITISteerer.fit(store, target, mi.ITIConfig(k=8, pooling="last", remove=remove))
        steerers["smitin-last"] = mi.SMITINSteerer.fit(store, target, mi.SMITINConfig(
            pooling="last", remove=remove, monitor_heads=8, interval=2))
    return steerers


def run_comparison_job(out: str | Path, *, model: MusicGen | None = None, target: str = "drums", n: int = 16,
                       quick: bool = False, remove: bool = False) -> dict:
    """The organism pipeline for one target concept; writes results and ``report.html`` under ``out``.

    Results are written in the layout :func:`musicinterp.report.build_report` reads (figures as
    plotly JSON, tables, audio per section, the narrative as markdown, captions and provenance), so
    ``musicinterp report OUT`` rebuilds the page.
    """
    import musicinterp as mi

    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in ("figures", "tables", "audio", "text"):  # results of an earlier run are replaced, not mixed in
        if (out / old).is_dir():
            shutil.rmtree(out / old)
    model = model or mi.load_model("organism")
    n = 16 if quick else n
    n_clips = 96 if quick else 256
    facts: dict[str, Any] = {"target": target, "direction": "remove" if remove else "add"}
    print(f"[1/5] collecting activations of {n_clips} organism clips (attn_z, resid)")
    store = demo_store(model, mi.organism.balanced_set(target, n_clips, seed=7), ["attn_z", "resid"],
                       out / f"store_{target}", frames="pooled", batch_size=32)

    print("[2/5] fitting probe banks for every planted concept")
    figures, banks, facts["probes"] = _probe_section(model, store, target)

    print(f"[3/5] SAE features, patching and ablation; fitting ITI, SMITIN, difference-in-means, regression "
          f"and SAE steering for {target!r}")
    ablation_figures, facts["ablation"] = ablation_section(model, target, banks[target], quick=quick)
    figures.update(ablation_figures)
    sae_figures, sae_steerer, sae_audio, facts["sae"] = sae_section(model, target, out, quick=quick)
    figures.update(sae_figures)
    for name, wave in sae_audio.items():
        write_wav(out / "audio" / "sae_features" / f"{name}.wav", wave, model.sample_rate)
    steerers = build_steerers(store, target, remove=remove, last_frame=False)
    steerers["sae"] = sae_steerer
    calibration = calibrate_monitors(model, steerers, target, remove, DEMO_FRAMES, n=8 if quick else 12)
    for name, st in steerers.items():
        st.save(out / "steerers" / name)

    print(f"[4/5] comparing methods on {n} generations per task and strength (2 s prompts, 2 s generated), "
          f"with a random-direction control of difference-in-means")
    comp, best, facts["comparison"] = _comparison_section(model, steerers, target, remove, n, quick, out, figures)

    print("[5/5] rendering audio (unsteered and steered, side by side) and the monitor traces")
    listen_figures, listen_facts = listen(model, steerers, best["continuation"], target, remove,
                                          out / "audio" / "listen", DEMO_FRAMES, calibration)
    figures.update(listen_figures)
    facts.update(listen_facts)
    report = _write_report(out, model, store, figures, facts)
    minutes = (time.perf_counter() - t0) / 60
    print(f"done in {minutes:.1f} min; open {report}")
    return {"best": best, "unsteered": comp.unsteered, "minutes": minutes, "report": str(report),
            "best_heads": {c: [list(i), a] for c, (i, a) in facts["probes"]["best"].items()},
            "summary": summary(facts)}


def _probe_section(model: MusicGen, store: Any, target: str) -> tuple[dict[str, Any], dict[str, Any], dict]:
    """Probe banks for every concept of the world: head heatmaps, the layer curve, the best head per concept."""
    import musicinterp as mi

    concepts = world_of(model).concepts
    banks = {c: mi.fit_probe_bank(store, c, "attn_z") for c in concepts}
    resid_banks = [mi.fit_probe_bank(store, c, "resid") for c in concepts]
    figures: dict[str, Any] = {
        "probes/probe_heatmaps": mi.views.concept_grid(list(banks.values())),
        f"probes/probe_heatmap_{target}_sorted": mi.head_heatmap(banks[target], sort=True),
        "probes/probe_layers": mi.views.layer_accuracy_curve(resid_banks),
    }
    best_heads = {c: (tuple(int(v) for v in b.best(1)[0][0]), float(b.best(1)[0][1])) for c, b in banks.items()}
    for c, (idx, acc) in best_heads.items():
        print(f"      {c:7s} best head L{idx[0]}H{idx[1]} accuracy {acc:.3f}")
    resid = resid_banks[list(concepts).index(target)].val_acc
    return figures, banks, {"best": best_heads, "resid_best": (int(resid.argmax()), float(resid.max()))}


def _comparison_section(model: MusicGen, steerers: dict[str, Any], target: str, remove: bool, n: int, quick: bool,
                        out: Path, figures: dict[str, Any]) -> tuple[Any, dict[str, list], dict]:
    """Every method (and a random-direction control of difference-in-means, the cheapest direction method:
    controls of every method double the demo's time) on the world's tasks; the best settings as a table,
    success against fidelity per task, the steering matrix; the facts the captions quote."""
    import musicinterp as mi

    from ..views.steering import markdown_table

    world = world_of(model)
    sweeps = {k: v[1:3] for k, v in world.sweeps.items()} if quick else None  # quick: two strengths each
    tasks = world.tasks(target, n=n, prompt_frames=DEMO_FRAMES, new_frames=DEMO_FRAMES, add=not remove)
    control = {f"diffmeans{CONTROL_MARK}0": random_control(steerers["diffmeans"])} if "diffmeans" in steerers else {}
    comp = mi.run_comparison(model, {**steerers, **control}, target, add=not remove, tasks=tasks, sweeps=sweeps,
                             keep_results=True)
    best = {task: comp.best(task) for task in comp.unsteered}
    heard = clap_check(model, comp, best, tasks, target, remove)  # CLAP and FAD beside the detector
    table_rows = []
    for task in comp.unsteered:
        table_rows.append(_key_first({**_plain(comp.unsteered[task]), **_clap_fields(heard, task, "unsteered"),
                                      "within_limits": True}))
        table_rows.extend(_key_first({**_plain(r), **_clap_fields(heard, task, r["method"])}) for r in best[task])
    md = markdown_table(table_rows)
    print(md)
    (out / "comparison.md").write_text(md + "\n")
    _write_table(out / "tables" / "comparison" / "best_settings.json", table_rows)
    _write_table(out / "tables" / "comparison" / "all_settings.json",
                 [_key_first(r) for r in comp.to_pandas().to_dict("records")])
    rows = [_plain(r) for r in comp.rows]
    for task in comp.unsteered:
        figures[f"comparison/success_vs_fidelity_{task}"] = mi.views.success_vs_fidelity(rows, task)
    matrix = mi.SteeringMatrix(comparisons={(target, "remove" if remove else "add"): comp})
    figures["comparison/matrix"] = mi.matrix_heatmap(matrix, task=None, title=f"steering {target}: success at the limits")
    controls = {task: {r["method"]: {"success": r["control_success"], "beaten": bool(r["beats_control"])}
                       for r in best[task] if "control_success" in r} for task in comp.unsteered}
    facts = {"n": n, "best": {t: [_plain(r) for r in rs] for t, rs in best.items()},
             "unsteered": {t: _plain(r) for t, r in comp.unsteered.items()}, "controls": controls,
             "verdicts": comp.verdicts(), "audio_check": heard, "clap_agreement": agreement(heard)}
    return comp, best, facts


def _clap_fields(heard: dict[str, dict[str, dict[str, float]]], task: str, method: str) -> dict[str, float]:
    """The CLAP columns of one best setting: CLAP's success, FAD (with interval) and preservation distance."""
    m = heard.get(task, {}).get(method, {})
    return {"clap_success": m["clap"], **{k: v for k, v in m.items() if k.endswith("_clap") or "_clap_" in k}} \
        if m else {}


KEY_COLUMNS = ("task", "method", "strength", "success", "success_lo", "success_hi", "clap_success", "collateral",
               "verdict", "within_limits")


def _key_first(row: dict[str, Any]) -> dict[str, Any]:
    """The columns a reader compares first, then the rest (which the report folds)."""
    return {**{k: row[k] for k in KEY_COLUMNS if k in row}, **{k: v for k, v in row.items() if k not in KEY_COLUMNS}}


def _write_report(out: Path, model: MusicGen, store: Any, figures: dict[str, Any], facts: dict[str, Any]) -> Path:
    """Figures as plotly JSON, the narrative as markdown, titles, captions and provenance, then ``report.html``."""
    from ..report import Provenance, build_report

    for key, fig in figures.items():
        path = out / "figures" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.write_json(str(path))
    texts = {"summary": summary(facts), **intros(facts)}
    for section, text in texts.items():
        (out / "text" / section).mkdir(parents=True, exist_ok=True)
        (out / "text" / section / "intro.md").write_text(text + "\n")
    items = {f"text/{s}/intro.md": {} for s in texts}  # listed first: each section opens with its question
    items.update({k: v for k, v in captions(facts).items() if (out / k).exists()})
    verb = "away from" if facts["direction"] == "remove" else "toward"
    (out / "sections.json").write_text(json.dumps({
        "title": f"musicinterp demo: steering {verb} {facts['target']} on the model organism",
        "order": ORDER, "titles": TITLES, "items": items}, indent=1))
    (out / "facts.json").write_text(json.dumps(facts, indent=1, default=str))
    prov = Provenance.collect(model=model, store=store, seeds={"clips": 7, "generation": 0, "audio": 99})
    (out / "provenance.json").write_text(json.dumps(prov.to_dict(), indent=1))
    return build_report(out).save(out / "report.html")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("collateral_by_judge", "collateral_by_concept", "result")}


def _write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1, default=float))
