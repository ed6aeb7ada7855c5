"""Write ``docs/results.md`` from the benchmarks' saved JSON (``benchmarks/results/*.json``), never by hand.

Each ``benchmarks/results/NAME.json`` is a benchmark's JSON last line, saved with
the command that produced it under ``"_command"`` by ``save_result.py``:

    python benchmarks/save_result.py audio_metrics -- python benchmarks/audio_metrics.py
    python benchmarks/results_page.py            # rewrites docs/results.md
    python benchmarks/results_page.py --check    # exit 1 when docs/results.md differs from the JSON

Each section opens with what its benchmark measures (the first paragraph of the
script's docstring) and the command. Known benchmarks get their own tables, with
95% intervals on every rate; any other JSON is shown as a table of its numbers.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAGE = HERE.parent / "docs" / "results.md"
sys.path.insert(0, str(HERE))  # sibling benchmark modules render their own tables (matrix_ledger)

from _page_format import flat, fmt, join_and, pct, rate, table  # noqa: E402
from _pages_steering import (  # noqa: E402
    VARIANT_WORDS,
    dynamics_coupling,
    matrix_ledger,
    note_timing,
    precision_organism,
    steering_matrix,
    steering_matrix_variants,
)


def structure(data: dict) -> str:
    rows = [[k, data[k], data["targets"][k], "met" if data["met"][k] else "not met"] for k in data["targets"]]
    return table(["figure", "value", "target", ""], rows)


def audio_metrics(data: dict) -> str:
    g = data["gaussians"]
    out = [table(["check on Gaussians", "value"], [[k, v] for k, v in g.items()]), ""]
    rows = [[name, e["dim"], e["fad_drums"], e["fad_halves"], e["fad_ratio"], e["kad_drums"], e["kad_halves"]]
            for name, e in data.items() if isinstance(e, dict) and "fad_ratio" in e]
    out.append(table(["embedder", "dims", "FAD drums vs none", "FAD two halves", "ratio (target >= 5)",
                      "KAD drums vs none", "KAD two halves"], rows))
    return "\n".join(out)


def clap_matrix(data: dict) -> str:
    rows = [[pair, t["agree"], t["cells"]] for pair, t in data["pairs"].items()]
    off = [[key, c["detector_success"], c["clap_success"], c.get("clap_success_calibrated", ""), c.get("validity")]
           for key, c in data["cells"].items() if not c["agree_10pt"]]
    out = [f"CLAP `{data['clap']}` against the detector on the matrix's saved cells: success within 10 points in "
           f"{data['within_10pt']} of {data['cells_total']} cells ({fmt(data['share'])}; target >= 0.8)"
           + (f": {data['valid_cells_within_10pt']} of the {data['valid_cells']} cells whose continuations obey the "
              f"grammar at least 90% of the time, {data['broken_cells_within_10pt']} of the {data['broken_cells']} "
              "where it breaks more often (a note no onset started sounds as a held tone with no attack)" if "valid_cells" in data else "")
           + "." + (f" With each concept's threshold calibrated on {data['calibration_clips']} labelled clips with "
                    "voices rewritten (as a user calibrates a real CLAP on labelled audio; thresholds "
                    + ", ".join(f"{k} {fmt(v)}" for k, v in data["thresholds"].items())
                    + f"): {data['within_10pt_calibrated']} of {data['cells_total']} ({fmt(data['share_calibrated'])})."
                    if "within_10pt_calibrated" in data else ""),
           "", table(["pair", "cells within 10 points", "cells"], rows)]
    tc = data.get("tempo_clips")
    if tc:
        lo, hi = data["tempo_band"]
        out += ["", f"On tempo, clip by clip: CLAP and the detector disagree on {tc['disagree']} clips, "
                f"{tc['disagree_between']} of them ({fmt(tc['disagree_between'] / max(tc['disagree'], 1))}) with a lead "
                f"onset rate between the world's two tempi ({lo:.2f}-{hi:.2f} onsets per second, where no world clip "
                f"lies and the detector's 3.6 decides); of the {tc['agree']} clips where they agree, "
                f"{tc['agree_between']} ({fmt(tc['agree_between'] / max(tc['agree'], 1))})."]
    if off:
        out += ["", "The cells where they differ by more:", "",
                table(["method/pair", "detector success", "CLAP success", "CLAP success, calibrated", "validity"],
                      off)]
    return "\n".join(out)


def organism_quality(data: dict) -> str:
    n = data["n"]
    rows = [[f"{c} (\"{e['pos_prompt']}\" / \"{e['neg_prompt']}\")", rate(e["pos_rate"], n), rate(e["neg_rate"], n),
             rate(e["uncond_rate"], n)] for c, e in data["concepts"].items()]
    return (f"{data['n']} generations of {data['seconds']:g} s per prompt (guidance {data['guidance_scale']:g}, top-k "
            f"{data['top_k']}, temperature {data['temperature']:g}); rates read by the exact detectors. World validity "
            f"{fmt(data['validity'])}, held-out teacher-forced NLL {fmt(data['heldout_nll'])} nats per token; gates "
            f"(>= 90% with the word, <= 10% with its opposite, 20-80% unconditional, validity >= 0.95): "
            f"{'all pass' if data['gates_pass'] else 'not all pass'}.\n\n"
            + table(["concept", "prompted with the word", "with its opposite", "unconditional"], rows))


VARIANT_LABELS = {"mean_top_rows_cond": "top heads mean-ablated, conditional rows only",
                  "mean_top_rows_uncond": "top heads mean-ablated, unconditional rows only",
                  "mean_top8": "top 8 heads mean-ablated", "mean_layer3": "every head of the last layer mean-ablated",
                  "mean_top_guidance_off": "top heads mean-ablated, guidance 1",
                  "patch_top": "top heads patched from the \"no drums\" run"}


def ablation_organism(data: dict) -> str:
    n, base = data["n_gen"], data["drums_rate_unablated"] / 100
    heads = ", ".join(f"L{layer}H{head}" for layer, head in data["top_heads"])
    out = [f"Patching \"drums\" into \"no drums\" ({data['n_patch']} clips, site `{data['site']}`): the top "
           f"{len(data['top_heads'])} heads ({heads}) together restore {fmt(data['patch_top_restore'])} of the clean "
           f"drum logit difference, {len(data['top_heads'])} random heads {fmt(data['patch_random_restore'])} "
           "(targets >= 0.8 and <= 0.2); alone:", ""]
    out.append(table(["head", "restores"], [[h, v] for h, v in data["single_head_restore"].items()]))
    out += ["", f"In generation from \"drums\" ({n} clips of {data['frames']} frames a row; drums without any "
            f"intervention {rate(base, n)}, unconditional {rate(data['drums_rate_unconditional'] / 100, n)}, from "
            f"\"no drums\" {rate(data['drums_rate_no_drums_prompt'] / 100, n)}):", ""]
    drops = {"top heads mean-ablated (both rows)": data["gen_ablate_top_drop"],
             "random heads mean-ablated (mean of draws)": data["gen_ablate_random_drop"],
             **{VARIANT_LABELS.get(k, k.replace("_", " ")): v for k, v in data["gen_variants_drop"].items()},
             "random heads patched (mean of draws)": data["gen_patch_random_drop"]}
    out.append(table(["intervention", "drums", "drop (points)"],
                     [[k, rate(base - v / 100, n), v] for k, v in drops.items()]))
    ce = data["skip_layer_ce_change"]
    books = list(next(iter(ce.values())))
    out += ["", "Skipping one layer (teacher-forced): change in next-code cross-entropy per codebook (nats):", ""]
    out.append(table(["layer", *books], [[layer, *[v[b] for b in books]] for layer, v in ce.items()]))
    return "\n".join(out)


CLAP_TARGETS = {"drums": 0.95, "tempo": 0.95, "timbre": 0.95, "bass": 0.95, "dynamics": 0.90, "mode": 0.90}


def clap_organism(data: dict) -> str:
    zs, ret = data["zero_shot"], data["retrieval"]
    rows = [[c, e["n"], rate(e["agreement"], e["n"]), e["auc"], CLAP_TARGETS.get(c),
             "met" if e["agreement"] >= CLAP_TARGETS.get(c, 0) else "missed",
             ", ".join(f"{k}: {fmt(v)}" for k, v in e["worst_where"].items())] for c, e in zs.items()]
    out = [f"Zero-shot presence on {data['n_heldout']} held-out renders (CLAP `{data['clap']}`; threshold 0 on the "
           "cosine margin of the concept's word against its opposite, never tuned):", "",
           table(["concept", "clips", "agreement with the exact detector", "AUC", "target", "",
                  "error rate where (worst two)"], rows), ""]
    if "zero_shot_perturbed" in data:
        zp = data["zero_shot_perturbed"]
        out += [f"The same on {data['n_heldout']} other held-out clips with voices rewritten at random (bass lines, drum "
                "densities, lead note lengths and brightness the world does not write, as steered generations have; "
                "truth from the detectors):", "",
                table(["concept", "clips", "agreement with the exact detector", "AUC"],
                      [[c, e["n"], rate(e["agreement"], e["n"]), e["auc"]] for c, e in zp.items()]), ""]
    if "zero_shot_perturbed_held_lead" in data:
        held, rest = data["zero_shot_perturbed_held_lead"], data["zero_shot_perturbed_no_held_lead"]
        out += ["Split by whether the rewritten lead holds notes (a new pitch with no onset: soft, no attack, and not "
                "counted by the tempo detector nor read by the dynamics judge):", "",
                table(["concept", "clips with held notes", "agreement", "other clips", "agreement"],
                      [[c, held[c]["n"], rate(held[c]["agreement"], held[c]["n"]), rest[c]["n"],
                        rate(rest[c]["agreement"], rest[c]["n"])] for c in held]), ""]
    out += [f"Text-to-audio retrieval over the 16 combinations of the four planted concepts: recall@1 "
           f"{fmt(ret['recall_at_1'])} (target >= 0.8), precision@10 {fmt(ret['precision_at_10'])}; each clip's best "
           f"caption of the 16 is its own in {rate(ret['audio_to_text_accuracy'], ret['clips'])}.", "",
           f"FAD and KAD between {data['n_fad']} clips without a concept and {data['n_fad']} with it, against two "
           "halves of the set without (target: ratio >= 5 with the CLAP embedder), and FAD against the share of "
           "clips carrying the concept (0, 0.25, 0.5, 0.75, 1; target Spearman >= 0.9):", ""]
    rows = [[c, emb, e["fad_with"], e["fad_halves"], e["ratio"], e["kad_with"], e["kad_halves"], e["spearman"]]
            for c, by in data["fad"].items() for emb, e in by.items()]
    out.append(table(["concept", "embedder", "FAD with vs without", "FAD two halves", "ratio", "KAD with vs without",
                      "KAD two halves", "Spearman vs fraction"], rows))
    return "\n".join(out)


def probe_organism(data: dict) -> str:
    concepts = data["concepts"]
    rows = [[c, f"layer {e['best_layer']}, head {e['best_head']}", rate(e["accuracy"], e["n_val"]), e["auc"],
             e["mean_accuracy"], " / ".join(f"{v:.2f}" for v in e["layer_best"]), e["sklearn_gap"]]
            for c, e in concepts.items()]
    return (f"{data['clips']} clips of {data['clip_seconds']:g} s per concept (a balanced set each), "
            f"{data['pooling']}-pooled `{data['site']}` of every head, logistic probes on a grouped 4:1 split "
            "(validation accuracy with its 95% interval):\n\n"
            + table(["concept", "best head", "accuracy", "AUC", "mean over heads", "best per layer (0 / 1 / ...)",
                     "gap to scikit-learn on that head"], rows))


def sae_organism(data: dict) -> str:
    out = [f"{data['setting']}.", "", table(
        ["fraction of variance explained", "L0", "dead", "dense", "CE loss score (spliced)", "most damaged codebook"],
        [[data["fve"], data["l0"], data["dead_fraction"], data["dense_fraction"], data["ce_loss_score"],
          f"{data['most_damaged_codebook']} ({fmt(data['ce_loss_score_per_codebook'][data['most_damaged_codebook']])})"]]),
        "", "Each concept's best feature (AUC of its clip-pooled activation; no labels in training):", "",
        table(["concept", "feature", "AUC (mean-pooled)", "AUC (peak)"],
              [[c, data["concept_feature"][c], data["concept_auc"][c], data["concept_auc_peak"][c]]
               for c in data["concept_auc"]])]
    steer = data.get("steer")
    if steer:
        n = int(re.search(r"n=(\d+)", data["setting"]).group(1)) if re.search(r"n=(\d+)", data["setting"]) else 0
        rows = [[d, r["method"], r["strength"], rate(r["success"], n), rate(r["validity"], n), r["collateral"],
                 r["nll_increase"]] for d in ("add", "remove") for r in steer[f"{d}_variants"].values()]
        out += ["", f"Steering drums with the SAE ({n} continuations a row, each variant at its best setting):", "",
                table(["drums", "variant", "strength", "success", "validity", "collateral", "NLL increase"], rows)]
    stab = data.get("stability")
    if stab:
        rows = [[k, len(v["features"]), v["mean_best_match"], v["min_best_match"], v["match_in_set"],
                 ", ".join(fmt(c) for c in v["best_feature_cos"])] for k, v in stab.items() if isinstance(v, dict)]
        out += ["", f"Seed stability of the drum feature set (SAEs of seeds {stab['seeds']}): for each feature of "
                "seed 0's set, the best-matching decoder row of another seed's SAE:", "",
                table(["set", "features", "mean best-match cosine", "min", "share matched inside the other set",
                       "the two best features' cosine"], rows)]
    return "\n".join(out)


def judges_agreement(data: dict) -> str:
    rows = [[c, data["n_heldout"][c], rate(data["agreement"][c], data["n_heldout"][c]),
             rate(data["agreement_default"][c], data["n_heldout"][c]), data["threshold"][c], data["default_threshold"][c],
             data["judge_ms_per_clip"][c]] for c in data["agreement"]]
    return (f"{data['n_per_concept']} rendered clips of {data['seconds_per_clip_audio']:g} s per concept (world seed "
            f"{data['seed']}; pairs that differ only in the concept), half to calibrate each judge's threshold, half "
            f"held out (target: agreement >= {fmt(data['target'])} each; "
            f"{'all met' if data['all_pass'] else 'not all met'}):\n\n"
            + table(["concept", "held-out clips", "agreement (calibrated threshold)", "agreement (shipped threshold)",
                     "calibrated threshold", "shipped threshold", "ms per clip"], rows))


def clap_steered(data: dict) -> str:
    rows = []
    for name, st in data["settings"].items():
        n, a, d = st["n"], st["clap_vs_detector"], st["disagree"]
        rows.append([name, rate(st["validity_in_context"], n), rate(st["validity"], n), rate(st["detector_success"], n),
                     rate(st["audible_detector_success"], n), rate(st["clap_success"], n),
                     rate(st["librosa_success"], n), rate(a["all"], n),
                     f"{pct(a['valid'])} ({a['n_valid']}) / {pct(a['broken'])} ({a['n_broken']})",
                     rate(st["librosa_vs_detector"]["all"], n),
                     f"{d['n']}" + (f", librosa with CLAP in {d['librosa_sides_with_clap']:.0%}" if d["n"] else "")])
    return (f"{data['n']} continuations per setting, each clip judged by the exact detector, by the detector counting "
            "only notes an onset started (audible), by the organism CLAP and by the librosa judge "
            f"({', '.join(data['librosa_judges'].values())}) on the rendered audio:\n\n"
            + table(["setting", "validity (prompt as context)", "validity (window alone)", "detector", "audible",
                     "CLAP", "librosa", "CLAP agrees with the detector",
                     "of which on clips valid (n) / broken (n) in the window", "librosa agrees with the detector",
                     "clips where CLAP and the detector disagree"], rows))


RENDER: dict[str, tuple[str, Callable[[dict], str]]] = {
    "clap_steered": ("The organism CLAP on steered audio: where it and the detector disagree", clap_steered),
    "clap_matrix": ("The organism CLAP on the steering matrix's own generations", clap_matrix),
    "judges_agreement": ("The librosa audio judges against the exact detectors", judges_agreement),
    "sae_organism": ("SAE features on the organism", sae_organism),
    "probe_organism": ("Where the concepts are readable: probes on every head", probe_organism),
    "clap_organism": ("The organism CLAP against the exact detectors", clap_organism),
    "precision_organism": ("Precision steering, one method in detail: ramps, keep-sets, bounded edits",
                           precision_organism),
    "ablation_organism": ("Where \"drums\" enters: patching and ablation on the organism", ablation_organism),
    "organism_quality": ("The model organism's quality gates", organism_quality),
    "note_timing": ("When steering breaks notes: adding bass", note_timing),
    "steering_matrix_variants": ("Precision steering: the matrix's variants at calibrated strengths",
                                 steering_matrix_variants),
    "steering_matrix_text": ("The steering matrix's text tasks at the continuation's calibrated strengths",
                             steering_matrix_variants),
    "structure": ("The house: structure figures", structure),
    "dynamics_coupling": ("Why adding drums moves the lead's loudness", dynamics_coupling),
    "matrix_ledger": ("Every cell of the steering matrix, decided on all the saved runs", matrix_ledger),
    "audio_metrics": ("Audio measures: FAD and KAD on Gaussians and organism renders", audio_metrics),
    "steering_matrix": ("The steering matrix on the organism, with intervals and controls", steering_matrix),
}


TITLES = {  # benchmarks shown as a table of their numbers, under a title a reader uses
    "trace_overhead": "What tracing costs: generation under nnsight against plain Hugging Face",
    "steer_overhead": "What steering costs during generation, per method",
    "sweep_batching": "A strength sweep as rows of one generation",
    "collect_distributed": "Collecting one store with two processes",
    "collect_store": "Collecting and streaming activations against the hand-written baseline",
    "probe_fit": "Fitting every head's probe at once against scikit-learn's loop",
    "patch_sweep": "A patching sweep in one pass against one trace per cell",
    "sae_organism": "SAE features on the organism",
    "sae_train": "SAE training streamed from the store against one in-memory tensor",
    "judges_agreement": "The librosa audio judges against the exact detectors",
    "report_size": "The report: size, build time and offline load time",
}
SCRIPT = {"steering_matrix_variants": "matrix_variants", "steering_matrix_text": "steering_matrix"}  # result stems whose script has another name


def what_it_measures(stem: str) -> str:
    """The first paragraph of the benchmark script's docstring: the page says what each table measures."""
    script = HERE / f"{SCRIPT.get(stem, stem)}.py"
    if not script.is_file():
        return ""
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split())


def section(name: str, data: dict) -> str:
    stem = name.split("-")[0]
    title, render = RENDER.get(stem, (TITLES.get(stem, stem.replace("_", " ").capitalize()), None))
    if stem == "steering_matrix_text":  # one section per task
        variants = sorted({r["variant"] for r in data["rows"]} - {"plain"})
        title = f"{title}: {data['task']}" + (f", {join_and([VARIANT_WORDS[v] for v in variants])}" if variants else "")
    elif stem == "steering_matrix_variants" and name != stem:  # a later run of some variants
        variants = sorted({r["variant"] for r in data["rows"]} - {"plain"})
        title = f"{title}: {join_and([VARIANT_WORDS[v] for v in variants])}"
    body = render(data) if render else table(["figure", "value"], [[k, v] for k, v in flat(data)])
    about = what_it_measures(stem)
    wall = f" ({data['_wall_s'] / 60:.1f} min)" if isinstance(data.get("_wall_s"), (int, float)) else ""
    return (f"## {title}\n\n" + (f"{about}\n\n" if about else "")
            + f"Command: `{data.get('_command', 'unknown')}`{wall}\n\n{body}\n")


# the page follows a reader: the organism, steering, features and circuits, judges, then speed and the house
ORDER = ("organism_quality", "probe_organism", "matrix_ledger", "steering_matrix_variants", "steering_matrix_text", "steering_matrix", "dynamics_coupling", "precision_organism", "note_timing",
         "sae_organism", "ablation_organism", "patch_sweep", "judges_agreement", "clap_organism", "clap_steered", "clap_matrix",
         "audio_metrics",
         "trace_overhead", "steer_overhead", "sweep_batching", "probe_fit", "collect_store", "collect_distributed",
         "sae_train", "report_size", "structure")


def reading_order(path: Path) -> tuple[int, str]:
    stem = path.stem.split("-")[0]
    return (ORDER.index(stem) if stem in ORDER else len(ORDER), path.stem)


def anchor(title: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule: lowercase, punctuation dropped)."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return "#" + kept.replace(" ", "-")


def render_page() -> str:
    sections = [section(path.stem, json.loads(path.read_text()))
                for path in sorted(RESULTS.glob("*.json"), key=reading_order)]
    shots = sorted((PAGE.parent / "img").glob("report_*.png"))
    if shots:  # the offline report of `make demo`, one screenshot per section (tests/report/test_screens.py)
        sections.append("## The report of `make demo`, section by section\n\n" + "\n".join(
            f"![{p.stem.removeprefix('report_').replace('_', ' ')}](img/{p.name})\n" for p in shots))
    titles = [s.splitlines()[0].removeprefix("## ") for s in sections]
    parts = ["# Results", "", "Generated by `python benchmarks/results_page.py` from the JSON in `benchmarks/results/` "
             "(each benchmark's last line, saved with the command that produced it by "
             "`python benchmarks/save_result.py NAME -- COMMAND`). Do not edit by hand: a test checks this page "
             "against the JSON.", "", *[f"- [{t}]({anchor(t)})" for t in titles], "", *sections]
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare docs/results.md with the JSON, write nothing")
    args = ap.parse_args()
    page = render_page()
    if args.check:
        same = PAGE.is_file() and PAGE.read_text() == page
        print(json.dumps({"results_page_current": same}))
        sys.exit(0 if same else 1)
    PAGE.write_text(page)
    print(json.dumps({"written": str(PAGE), "bytes": len(page.encode()), "sections": page.count("\n## ")}))


if __name__ == "__main__":
    main()
