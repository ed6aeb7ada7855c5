"""Captions of the demo report's figures, tables and audio: axes, how to read them, what this run found."""

from __future__ import annotations

from typing import Any

from ..views.numbers import interval


def _probes(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    t, p = f["target"], f["probes"]
    (layer, head), acc = p["best"][t]
    others = ", ".join(f"{c} L{i[0]}H{i[1]} ({a:.2f})" for c, (i, a) in p["best"].items() if c != t)
    rl, racc = p["resid_best"]
    return {
        "figures/probes/probe_heatmaps.json": {"title": "Probe accuracy per head, every concept", "caption": (
            "Rows are layers, columns the heads of each layer sorted by accuracy; colour is validation accuracy "
            "of a logistic probe on that head (0.5 is chance), one colour range for all panels. "
            f"Best heads: {t} L{layer}H{head} ({acc:.2f}); {others}.")},
        f"figures/probes/probe_heatmap_{t}_sorted.json": {"title": f"Probe accuracy per head: {t}", "caption": (
            f"The {t} panel alone, heads sorted per layer as in SMITIN's Fig. 3. Brighter columns on the left "
            f"mean a few heads per layer carry {t}; the best is L{layer}H{head} at {acc:.2f}.")},
        "figures/probes/probe_layers.json": {"title": "Probe accuracy per layer (residual stream)", "caption": (
            "One probe per layer on the residual stream, one line per concept; x is the layer, y validation "
            f"accuracy. {t} is best read at layer {rl} ({racc:.2f}).")},
    }


def _ablation(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    t, a = f["target"], f["ablation"]
    (pl, ph), score = a["patch_top"]
    layer, cb, change = a["skip_worst"]
    return {
        f"figures/ablation/patch_{t}_layer_head.json": {"title": f"Patching {t} into its opposite, per head",
            "caption": (
                f"Each cell patches one head's output from the clip with {t} into the clip without it ({a['n']} "
                f"pairs); colour is the share of the {t} logit difference it restores (1 = all of it, 0 = none; "
                f"red above 0, blue below: patching that head pushes away from {t}). The head that moves it most "
                f"is L{pl}H{ph}: {score:+.0%}.")},
        f"figures/ablation/read_vs_used_{t}.json": {"title": f"Where {t} is read vs where it is used", "caption": (
            f"Left: probe accuracy per head (where {t} can be read). Right: the patching map (where the model "
            f"uses it). Read best at L{f['probes']['best'][t][0][0]}H{f['probes']['best'][t][0][1]}, patching "
            f"moves it most at L{pl}H{ph}: a readable head need not be a used one.")},
        "figures/ablation/skip_layer_per_codebook.json": {"title": "Skipping a layer: cost per codebook", "caption": (
            "Rows are the skipped layer, columns the codebooks; each cell is the change in cross-entropy "
            "(nats/token) of that codebook when the layer is skipped (red: worse). The largest cost: layer "
            f"{layer} on {cb} (+{change:.2f}).")},
    }


def _sae(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    s, t = f["sae"], f["target"]
    return {
        "figures/sae/evaluation_per_codebook.json": {"title": "Reconstruction cost per codebook", "caption": (
            "Scores of the model with the SAE spliced in, per codebook: 1 means the SAE costs nothing, 0 as bad "
            f"as zeroing the layer. Overall: fraction of variance explained {s['fve']:.2f}, L0 {s['l0']:.1f} "
            f"active features per frame, CE score {s['ce']:.2f}.")},
        "figures/sae/feature_density.json": {"title": "How often features fire", "caption": (
            "Histogram over features of log10 of the fraction of frames each fires on; dead features are "
            f"counted in the title. {s['dead']} of {s['dict_size']} features never fired.")},
        "figures/sae/feature_map.json": {"title": "Map of the decoder directions (UMAP)", "caption": (
            "Each point is a feature's decoder direction placed by UMAP (nearby = similar direction); colour is "
            "the concept it separates best, size grows with how often it fires.")},
        f"figures/sae/feature_{s['feature']}_page.json": {"section": "sae_features",
            "title": f"Feature {s['feature']}, the best {t} feature", "caption": (
                "Top left: histogram of its activation on frames where it fires (log scale). Top right: AUC of "
                "its clip-pooled activation for each concept (0.5 = unrelated). Bottom left: its activation over "
                "the frames of its top clips. Bottom right: cosine of its decoder direction with each concept's "
                f"difference-in-means and probe directions. For {t}: AUC {s['auc']:.2f}.")},
        "audio/sae_features": {"section": "sae_features", "title": f"Top clips of feature {s['feature']}",
                               "caption": "The three clips on which the feature is most active on average."},
    }


def _comparison(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    c, t = f["comparison"], f["target"]
    out = {}
    for task in c["best"]:
        base = c["unsteered"][task]
        ctrl = "; ".join(f"{m}: random direction {v['success']:.0%}" + (" (beaten)" if v["beaten"] else
                         " (not beaten)") for m, v in c["controls"].get(task, {}).items())
        out[f"figures/comparison/success_vs_fidelity_{task}.json"] = {
            "title": f"Success against fidelity: {task}", "caption": (
                f"One line per method through its strengths: x is how much less likely the unsteered model finds "
                f"the steered music (NLL increase, nats/token; left is better), y the share of generations with "
                f"{t} (error bars: 95% Wilson intervals); dotted grey lines are random directions of the same "
                f"size. Unsteered: {base['success']:.0%}. " + (f"Controls: {ctrl}." if ctrl else ""))}
    out["figures/comparison/matrix.json"] = {"title": f"The steering matrix for {t}", "caption": (
        "Success of each method at its best setting within the limits (validity >= 0.95, collateral <= 0.10); "
        "a grey cell written 'out' had no setting inside the limits (its best success is written). Dropdown: "
        f"task. Verdicts over all settings: {c['verdicts']['pass']} pass, {c['verdicts']['fail']} fail, "
        f"{c['verdicts']['undecided']} undecided.")}
    out["tables/comparison/best_settings.json"] = {"title": "Each method at its best setting", "caption": (
        "Per task the unsteered row, then each method's most successful setting within the limits "
        "(within_limits False: none was inside, its most successful shown). success_lo/hi and "
        "collateral_lo/hi are 95% intervals; verdict pass needs every interval clear of its limit. "
        + _heard(c, t) + "Click a header to sort; 'more' opens the remaining columns.")}
    out["tables/comparison/all_settings.json"] = {"title": "Every setting tried", "caption": (
        "Every method, strength and task, random-direction controls included (method~random0).")}
    return out


def _heard(c: dict[str, Any], t: str) -> str:
    """What the audio judges said of the best settings, against the detector (empty without a CLAP)."""
    agree, total = c.get("clap_agreement", (0, 0))
    if not total:
        return ""
    fads = [m["fad_clap"] for by in c["audio_check"].values() for m in by.values() if "fad_clap" in m]  # steered
    fad = f" FAD in CLAP space against the unsteered clips ranges {min(fads):.2g}-{max(fads):.2g}." if fads else ""
    return (f"clap_success is the share where CLAP hears {t} in the rendered audio of the same generations (the "
            f"organism's own CLAP, checked against the detectors in docs/results.md): within 10 points of the "
            f"detector's success in {agree} of {total} best settings.{fad} ")


def _monitors(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for method, m in f.get("monitors", {}).items():
        if m["stopped"]:
            found = (f"In this continuation the reading crosses tau at step {m['stop_step']} and the strength "
                     f"falls to zero. Over the {m['n']} listening continuations it stopped in {m['stopped']}.")
        else:
            found = (f"It never crossed tau in the {m['n']} listening continuations, so the steering ran to the "
                     f"end: {m['why']}")
        tau = ("calibrated on held-out continuations" if m["calibrated"] else
               f"kept from the validation clips (calibration failed: {m['note']})")
        out[f"figures/monitors/monitor_{method}.json"] = {"title": f"{method}: monitor reading and strength",
            "caption": (
                f"x is the generation step; the solid line is the monitor's reading (median probe probability of "
                f"{f['target']} on its heads, relative to the prompt's first steps), the dashed line tau = "
                f"{m['tau']:.2f} ({tau}), triangles the steps that were steered and the dotted line the strength "
                f"(right axis). {found}")}
    return out


def _listen(f: dict[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for i, present in enumerate(f["listen"]["present"]):
        heard = ", ".join(f"{m}: {'yes' if p else 'no'}" for m, p in present.items())
        out[f"figures/listen/continuation_{i}_codes.json"] = {"title": f"Continuation {i}: codes", "caption": (
            "One row per codebook (lead, drums, brightness, bass), token id against time; the shaded part is "
            "the shared prompt, then grey is the unsteered continuation and colour the steered one (dropdown: "
            f"method). {f['target']} found by the detector: {heard}.")}
        out[f"audio/listen/continuation_{i}"] = {"section": "listen", "title": f"Continuation {i}: listen",
                                                 "caption": "Unsteered first, then each method at its best setting."}
    return out


def figure_captions(facts: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``{path: {"title", "caption"[, "section"]}}`` for every result file of the demo, in page order."""
    out: dict[str, dict[str, str]] = {}
    for part in (_probes, _ablation, _sae, _comparison, _monitors, _listen):
        out.update(part(facts))
    return out


def interval_text(row: dict[str, Any]) -> str:
    """A row's success interval as text (empty without one)."""
    return interval(row.get("success_lo"), row.get("success_hi"))
