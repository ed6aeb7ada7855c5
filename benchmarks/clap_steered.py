"""On steered organism continuations where the CLAP judge and the exact detector disagree, whether those clips
break the world's grammar and whether a third judge (librosa) sides with CLAP or with the detector.

    python benchmarks/clap_steered.py [--n 64] [--threads 1] [--settings diffmeans/bass/2.0 regression/bass/0.156 ...]

Each setting (``method/concept/strength``; methods iti, diffmeans, regression at the last residual layer, sae) is
fitted from ``balanced_set(concept, 128, seed=7)`` (pooled resid; the SAE as in steering_matrix.py, on
``balanced_set("drums", 128, seed=8)`` frames, its feature set with AUC >= 0.8) and run on the continuation task
(adding the concept) with ``mi.run_comparison``, paired with the unsteered baseline (same keyed noise). Per clip of
the 4 s continuation: the exact detector, grammar validity (``model.world.validity``), the CLAP judge on the
rendered audio, and the librosa judge of the concept. Agreement is split into valid and broken clips; ``disagree``
says, of the clips where CLAP and the detector disagree, how many are broken and how often librosa sides with CLAP.
The "audible" detector counts only the bass notes an onset started (the renderer sounds an orphan sustain, or a
run of them, as a held tone with no attack, which the detector counts as sounding; the window is rendered alone, so
a note sustained from the prompt is such a held tone too).
``validity`` reads the window alone, as comparisons did before they read the prompt as context (its first frame
may sustain a note from before); ``validity_in_context`` is today's check: the continuation with its prompt before
it, where a first-frame sustain with no onset in the prompt breaks the grammar (violations by kind are counted so).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.organism import vocab as V  # noqa: E402
from musicinterp.organism.detectors import CONCEPT_DETECTORS  # noqa: E402
from musicinterp.organism.renderer import HELD, _voice_notes  # noqa: E402

PROMPT_FRAMES = 200  # the continuation task's prompt (4 s), as in steering_matrix.py
# cells where the steering matrix (n 64, calibrated strengths) saw CLAP and the detector disagree
DEFAULT_SETTINGS = ("diffmeans/bass/2.0", "regression/bass/0.156", "diffmeans/tempo/3.0", "sae/tempo/2.667")


def _r(v: float) -> float:
    return round(float(v), 4)


def fit(model: Any, method: str, concept: str, work: Path, cache: dict[str, Any]) -> Any:
    """One steerer adding ``concept`` (stores and the SAE made once, cached)."""
    if method == "sae":
        if "sae" not in cache:
            frames = mi.collect(model, mi.organism.balanced_set("drums", 128, seed=8), ["resid"],
                                out=work / "sae_frames", batch_size=32, progress=False)
            sae = mi.sae.train(frames, "resid", layer=model.n_layers - 1, arch="topk", dict_size=256, k=16,
                               steps=cache["sae_steps"], batch_size=512, out=work / "sae", seed=0, progress=False)
            cache["sae"] = (frames, sae, mi.sae.analyze(sae, frames, probes=False, progress=False))
        frames, sae, analysis = cache["sae"]
        return mi.SAESteerer.fit(frames, concept, mi.SAESteererConfig(sae=sae, min_auc=0.8), analysis=analysis)
    key = f"{concept}/{method == 'iti'}"
    if key not in cache:
        cache[key] = mi.collect(model, mi.organism.balanced_set(concept, 128, seed=7),
                                ["attn_z", "resid"] if method == "iti" else ["resid"], out=work / key.replace("/", "-"),
                                frames="pooled", batch_size=32, progress=False)
    store, last = cache[key], [model.n_layers - 1]
    if method == "iti":
        return mi.ITISteerer.fit(store, concept, mi.ITIConfig(k=8))
    if method == "diffmeans":
        return mi.DiffMeansSteerer.fit(store, concept, mi.DiffMeansConfig(layers=last))
    if method == "regression":
        return mi.RegressionSteerer.fit(store, concept, mi.RegressionConfig(layers=last))
    raise SystemExit(f"unknown method {method!r}: iti, diffmeans, regression or sae")


def audible_bass_rate(gen: torch.Tensor) -> torch.Tensor:
    """Fraction of frames in bass notes an onset started, read by the renderer's own note parser (an orphan
    sustain, or a run of them, renders as a held tone with no attack: the detector counts it as sounding)."""
    rates = []
    for tokens in gen[:, V.BASS].long().numpy():
        notes = _voice_notes(tokens, V.BASS_ONSET_MAX, V.BASS_VELOCITIES, V.BASS_SUSTAIN, V.BASS_PITCHES)
        rates.append(sum(end - start for start, end, _, vel in notes if vel != HELD) / len(tokens))
    return torch.tensor(rates)


def judge_clips(model: Any, concept: str, codes: torch.Tensor, clap_judge: Any, audio_judge: Any) -> dict[str, Any]:
    """Per clip of the continuation: detector, validity, grammar violations by kind, CLAP and librosa decisions."""
    gen = codes[..., PROMPT_FRAMES:]
    det = CONCEPT_DETECTORS[concept]
    audio = list(np.asarray(model.codes_to_audio(gen)))
    audible = audible_bass_rate(gen) if concept == "bass" else det.score(gen)  # lead onsets always sound
    return {"det": (det.score(gen) > det.threshold).numpy(), "audible": (audible > det.threshold).numpy(),
            "score": det.score(gen).numpy(), "valid": model.world.validity(gen).numpy().astype(bool),
            "valid_ctx": model.world.validity(codes, start=PROMPT_FRAMES).numpy().astype(bool),
            "grammar": {k: v.numpy() for k, v in model.world.grammar_report(codes, start=PROMPT_FRAMES).items()},
            "clap": clap_judge.decide(clap_judge.score_audio(audio, model.sample_rate)),
            "librosa": audio_judge.decide(audio_judge.score_audio(audio, model.sample_rate))}


def _agree(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    same = a == b
    out: dict[str, Any] = {"all": _r(same.mean())}
    for name, sel in (("valid", valid), ("broken", ~valid)):
        out[name] = _r(same[sel].mean()) if sel.any() else None
        out[f"n_{name}"] = int(sel.sum())
    return out


def summarise(c: dict[str, Any]) -> dict[str, Any]:
    det, clap, lib, aud, valid, ctx = c["det"], c["clap"], c["librosa"], c["audible"], c["valid"], c["valid_ctx"]
    off = clap != det
    med = lambda sel: _r(np.median(c["score"][sel])) if sel.any() else None  # noqa: E731
    return {"n": len(det), "validity": _r(valid.mean()), "validity_in_context": _r(ctx.mean()),
            "detector_success": _r(det.mean()), "clap_success": _r(clap.mean()), "librosa_success": _r(lib.mean()),
            "audible_detector_success": _r(aud.mean()), "clap_vs_detector": _agree(clap, det, valid),
            "librosa_vs_detector": _agree(lib, det, valid), "clap_vs_librosa": _agree(clap, lib, valid),
            "clap_vs_detector_in_context": _agree(clap, det, ctx), "clap_vs_audible": _agree(clap, aud, valid),
            "librosa_vs_audible": _agree(lib, aud, valid),
            "disagree": {"n": int(off.sum()), "broken": int((off & ~valid).sum()),
                         "broken_in_context": int((off & ~ctx).sum()), "detector_yes": int((off & det).sum()),
                         "audible_yes": int((off & aud).sum()), "detector_score_median": med(off),
                         "agree_score_median": med(~off),
                         "librosa_sides_with_clap": _r((lib == clap)[off].mean()) if off.any() else None},
            "broken_by_kind": {k: int((v > 0).sum()) for k, v in c["grammar"].items() if (v > 0).any()}}


def row(name: str, s: dict[str, Any]) -> str:
    a, b, d = s["clap_vs_detector"], s["librosa_vs_detector"], s["disagree"]
    f = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    cells = [name, s["n"], f(s["validity"]), f(s["validity_in_context"]), f(s["detector_success"]),
             f(s["clap_success"]), f(s["librosa_success"]), f(s["audible_detector_success"]),
             f"{f(a['valid'])} ({a['n_valid']})", f"{f(a['broken'])} ({a['n_broken']})", f(b["valid"]),
             f(b["broken"]), f(s["clap_vs_librosa"]["all"]), f"{d['n']} ({d['broken']} broken)",
             f(d["librosa_sides_with_clap"])]
    return "| " + " | ".join(map(str, cells)) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--settings", nargs="+", default=list(DEFAULT_SETTINGS), metavar="METHOD/CONCEPT/STRENGTH")
    ap.add_argument("--sae-steps", type=int, default=1200)
    ap.add_argument("--clap", default="organism", help="the CLAP to judge with (a folder, or organism)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    clap = mi.judges.load_clap(args.clap)
    clap_judges = {j.concept: j for j in model.world.clap_judges(clap)}
    audio_judges = {j.concept: j for j in mi.judges.audio_judges()}
    work = Path(tempfile.mkdtemp(prefix="mi-clap-steered-"))
    cache: dict[str, Any] = {"sae_steps": args.sae_steps}
    by_concept: dict[str, dict[str, float]] = {}
    for item in args.settings:
        method, concept, strength = item.split("/")
        by_concept.setdefault(concept, {})[f"{method}@{strength}"] = float(strength)
    settings: dict[str, Any] = {}
    for concept, wanted in by_concept.items():
        steerers = {name: fit(model, name.split("@")[0], concept, work, cache) for name in wanted}
        print(f"fitted {list(steerers)} for {concept} after {time.perf_counter() - t0:.0f} s", flush=True)
        task = next(t for t in model.world.tasks(concept, n=args.n, add=True) if t.name == "continuation")
        comp = mi.run_comparison(model, steerers, concept, add=True, tasks=[task], keep_results=True,
                                 noise_floor=False, progress=False, sweeps={k: [v] for k, v in wanted.items()})
        cj, aj = clap_judges[concept], audio_judges[concept]
        base = summarise(judge_clips(model, concept, comp.baseline_codes[task.name], cj, aj))
        settings[f"unsteered/{concept}"] = base
        for r in comp.rows:
            settings[f"{r['method'].split('@')[0]}/{concept}/{r['strength']:g}"] = summarise(
                judge_clips(model, concept, r["result"].codes, cj, aj))
        print(f"judged {concept} after {time.perf_counter() - t0:.0f} s", flush=True)
    print("\nagreement with the detector, valid clips | broken clips (count); disagree = CLAP != detector\n")
    print("| setting | n | validity | in context | detector | CLAP | librosa | audible det | CLAP=det valid | "
          "CLAP=det broken | lib=det valid | lib=det broken | CLAP=lib | disagree | lib sides w/ CLAP |")
    print("|" + "---|" * 15)
    print("\n".join(row(name, s) for name, s in settings.items()))
    print("\n".join(f"{k}: clips broken by kind {s['broken_by_kind']}" for k, s in settings.items()
                    if s["broken_by_kind"]))
    print_json({"n": args.n, "settings": settings, "clap": "organism",
                "librosa_judges": {c: j.name for c, j in audio_judges.items()},
                "minutes": round((time.perf_counter() - t0) / 60, 1)})


if __name__ == "__main__":
    main()
