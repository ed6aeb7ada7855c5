"""Size, build time and offline browser load time of a demo-like report, against per-figure HTML files.

The report holds what the demo shows, computed on the organism and written in the
results-folder layout (``musicinterp.report.build``): probe heatmaps from a real store
(all concepts on one scale, the target's sorted heads, per-layer curves), steering
figures from a real comparison of ITI and SMITIN on continuation (success vs fidelity,
the table as a figure and as a table, a SMITIN monitor trace) and 16 clips of 4 s
rendered by the organism (8 continuations, unsteered and SMITIN-steered). Model work
is not timed; ``build_s`` is what ``musicinterp report`` does: read the folder, build,
save.

Baseline, side by side: what a user would otherwise write, one standalone HTML file per
figure with plotly.js inlined (offline) plus one WAV per clip; and plotly's default
``include_plotlyjs="cdn"`` file, opened offline (does its figure draw?).

``load_s``: first load in a fresh headless Chromium (system ``chromium``, every network
request refused) until every figure is drawn and every audio element has its duration;
``load_warm_s``: median of 3 reloads. Target ``load_s`` < 5 s. torch uses its default
thread count.

    python benchmarks/report_size.py [--results DIR]   # DIR: keep/reuse the organism results
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

from musicinterp import load_model  # noqa: E402
from musicinterp.report import Provenance, build_report  # noqa: E402
from musicinterp.report.browser import check_report, find_chromium, launch  # noqa: E402

TARGET = "drums"


def _stage(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.0f} s] {msg}", file=sys.stderr, flush=True)


def compute(out: Path) -> Path:
    """Everything the report shows, from the organism, written in the results-folder layout (not timed)."""
    from musicinterp.collect import collect
    from musicinterp.compare.run import run_comparison
    from musicinterp.data.audio import write_wav
    from musicinterp.organism.concept_sets import balanced_set
    from musicinterp.organism.tasks import organism_tasks
    from musicinterp.organism.world import CONCEPTS
    from musicinterp.probes import fit_probe_bank
    from musicinterp.steering import ITIConfig, ITISteerer, SMITINConfig, SMITINSteerer, steer
    from musicinterp.views.probes import concept_grid, head_heatmap, layer_accuracy_curve
    from musicinterp.views.steering import comparison_table, monitor_trace_figure, success_vs_fidelity

    t0 = time.perf_counter()
    model = load_model("organism")
    store = collect(model, balanced_set(TARGET, 96, seed=7), ["attn_z", "resid"], out=out.parent / "store",
                    frames="pooled", overwrite=True, batch_size=32, progress=False)
    _stage("collected the store", t0)
    banks = {c: fit_probe_bank(store, c, "attn_z") for c in CONCEPTS}
    figures = {"probes/heads_all": concept_grid(list(banks.values())),
               "probes/heads_drums": head_heatmap(banks[TARGET], sort=True),
               "probes/layers": layer_accuracy_curve([fit_probe_bank(store, c, "resid") for c in CONCEPTS])}
    steerers = {"iti": ITISteerer.fit(store, TARGET, ITIConfig(k=8)),
                "smitin": SMITINSteerer.fit(store, TARGET, SMITINConfig(monitor_heads=8, interval=2))}
    _stage("fitted probes and steerers", t0)
    cont = organism_tasks(TARGET, n=8, seed=99)[0]
    comp = run_comparison(model, steerers, TARGET, tasks=organism_tasks(TARGET, n=4)[:1],
                          sweeps={"iti": [2.0, 5.0], "smitin": [10.0, 20.0]}, progress=False)
    rows = [{k: v for k, v in r.items() if k != "collateral_by_judge"} for r in comp.rows]
    table = [{k: v for k, v in r.items() if k != "collateral_by_judge"} for r in comp.unsteered.values()] + rows
    figures["steering/success_vs_fidelity"] = success_vs_fidelity(rows, "continuation")
    figures["steering/table"] = comparison_table(table)
    _stage("compared ITI and SMITIN", t0)
    base = steer(model, [], seed=0, **cont.kwargs)
    smitin = steer(model, steerers["smitin"], strength=20.0, seed=0, **cont.kwargs)
    figures["steering/monitor"] = monitor_trace_figure(next(iter(smitin.monitors.values())), title="SMITIN monitor")
    _stage("rendered 16 clips", t0)
    for name, fig in figures.items():
        (out / "figures" / name).parent.mkdir(parents=True, exist_ok=True)
        fig.write_json(out / "figures" / f"{name}.json")
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "tables" / "comparison.json").write_text(json.dumps(table))
    for i in range(8):
        for name, res in (("unsteered", base), ("smitin", smitin)):
            write_wav(out / "audio" / f"continuation_{i}" / f"{name}.wav", res.audio[i], model.sample_rate)
    prov = Provenance.collect(model=model, store=store, seeds=[0, 7, 99], command="python benchmarks/report_size.py")
    (out / "provenance.json").write_text(json.dumps(prov.to_dict()))
    (out / "text").mkdir(exist_ok=True)
    (out / "text" / "about.md").write_text("Probes, steering and listening on the organism (drums).")
    (out / "sections.json").write_text(json.dumps({"title": "musicinterp report: drums on the organism",
                                                   "order": ["Notes", "probes", "steering", "Tables"]}))
    return out


def build(results: Path, path: Path) -> tuple[Path, float]:
    """What ``musicinterp report`` does: read the folder, build the report, save it."""
    t0 = time.perf_counter()
    build_report(results).save(path)
    return path, time.perf_counter() - t0


def baseline(results: Path, folder: Path) -> tuple[float, float]:
    """One offline HTML per figure (plotly.js inlined each time) beside the WAVs: (MB, seconds)."""
    import plotly.io as pio

    folder.mkdir()
    t0 = time.perf_counter()
    for i, src in enumerate(sorted((results / "figures").rglob("*.json"))):
        pio.read_json(str(src)).write_html(folder / f"figure_{i}.html", include_plotlyjs=True)
    seconds = time.perf_counter() - t0
    wavs = sum(p.stat().st_size for p in (results / "audio").rglob("*.wav"))
    return (sum(p.stat().st_size for p in folder.iterdir()) + wavs) / 1e6, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", type=Path, default=None,
                    help="reuse (or, when absent, write) the organism results folder here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mi-report-bench-"))
    results = args.results or work / "results"
    if not (results / "provenance.json").is_file():
        compute(results)
    path, build_s = build(results, work / "report.html")
    again, _ = build(results, work / "again.html")
    base_mb, base_s = baseline(results, work / "baseline")
    cdn = work / "cdn.html"
    pio_fig = sorted((results / "figures").rglob("*.json"))[0]
    import plotly.io as pio

    pio.read_json(str(pio_fig)).write_html(cdn, include_plotlyjs="cdn")
    n_figs = len(list((results / "figures").rglob("*.json")))
    clips = list((results / "audio").rglob("*.wav"))
    figures = {"mb": round(path.stat().st_size / 1e6, 2), "build_s": round(build_s, 2), "figures": n_figs,
               "clips": len(clips), "same_bytes_twice": path.read_bytes() == again.read_bytes(),
               "sidecar": path.with_name("report_files").exists(),
               "baseline_mb": round(base_mb, 2), "baseline_build_s": round(base_s, 2),
               "baseline_files": n_figs + len(clips)}
    if find_chromium() is None:
        figures.update(load_s=None, note="no chromium on this machine; apt-get install chromium")
    else:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                first = check_report(path, browser=browser, screenshot=work / "report.png")
                warm = [check_report(path, browser=browser).load_s for _ in range(3)]
            finally:
                browser.close()
        figures.update(load_s=round(first.load_s, 2), load_warm_s=round(statistics.median(warm), 2),
                       load_ok=first.ok, figures_drawn=sum(f["drawn"] for f in first.figures),
                       audio_loaded=sum(a["duration"] > 0 for a in first.audio),
                       requests=len(first.requests), target_load_s=5.0, load_within_target=first.load_s < 5.0,
                       cdn_figure_draws_offline=_cdn_draws(cdn))
    print(f"report: {path} ({figures['mb']} MB); results: {results}; baseline: {figures['baseline_files']} files, "
          f"{figures['baseline_mb']} MB")
    print_json(figures)


def _cdn_draws(path: Path) -> bool:
    """Open plotly's CDN-linked file with the network refused: is its figure drawn? (It should not be.)"""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_timeout(1000)
            return bool(page.evaluate("() => document.querySelector('.plotly-graph-div .main-svg') !== null"))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
