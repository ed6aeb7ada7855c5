"""The organism CLAP against the exact detectors, on held-out renders (world seeds the CLAP never saw).

(a) Zero-shot presence: per concept, the CLAP judge (``world.clap_judges(nuisance=True)``: cosine margin of
    "drums" vs "no drums" etc. over the judge's templates, threshold 0, uncalibrated) against the exact judge on
    the same clip's codes (the four planted concepts; dynamics and mode from the nuisance judges; mode only where
    it is decided, i.e. with bass). Agreement, the margin's AUC, and where they disagree (the error rate by the
    value of every other attribute, worst two).
(b) Text-to-audio retrieval over the 16 combinations of the four planted concepts: each combination's caption
    (embedding averaged over the judge templates) ranks the held-out clips; recall@1 = share of the 16 captions
    whose top clip has exactly that combination; also precision@10 and audio-to-text accuracy (each clip's best
    of the 16 captions).
(c) FAD/KAD per planted concept, with the CLAP embedder and with the organism's own embedder
    (``model_embedder``: the organism has no EnCodec, so this is the log-mel stand-in): reference = 2n clips
    without the concept; "halves" = FAD between its two halves; "with" = FAD(ref[:n], n clips with the concept);
    mixtures = ref[:n] against n clips of which a fraction f carry the concept (f = 0, .25, .5, .75, 1; the same
    seeds with and without it), Spearman of FAD against f.
(d) Zero-shot presence as in (a) on held-out clips with voices rewritten at random
    (:func:`~musicinterp.organism.clap_perturb.perturbed_clip`: bass lines, drum densities, lead note lengths and
    brightness the world does not write, as steered generations have), where only the detectors know the truth;
    also split into the clips whose rewritten lead holds notes (a new pitch with no onset, which breaks the
    grammar as a steered model does) and the rest.

    python benchmarks/clap_organism.py [--n 512] [--n-fad 128] [--clap organism]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.judges.clap import DEFAULT_TEMPLATES  # noqa: E402
from musicinterp.organism.clap_data import ATTRIBUTES, HELDOUT_SEED0, clip_labels, world_clips  # noqa: E402
from musicinterp.organism.clap_perturb import perturbed_clip  # noqa: E402
from musicinterp.organism.detectors import grammar_report  # noqa: E402
from musicinterp.organism.renderer import render  # noqa: E402

PLANTED = ("drums", "tempo", "timbre", "bass")
FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _exact(world, codes: torch.Tensor) -> dict[str, np.ndarray]:
    """Exact decisions per concept (float: 1, 0, or NaN where the judge cannot decide)."""
    out = {}
    for judge in [*world.judges(), *world.nuisance_judges()]:
        scores = judge.score_codes(codes)
        out[judge.concept] = np.where(np.isnan(scores), np.nan, judge.decide(np.nan_to_num(scores)).astype(float))
    return out


def _where_wrong(wrong: np.ndarray, labels: np.ndarray, concept: str, keep: np.ndarray) -> dict[str, float]:
    rates = {}
    for a, name in enumerate(ATTRIBUTES):
        if name == concept:
            continue
        for v in (0, 1):
            sel = keep & (labels[:, a] == v)
            if sel.sum() >= 16:
                rates[f"{name}={v}"] = round(float(wrong[sel].mean()), 3)
    return dict(sorted(rates.items(), key=lambda kv: -kv[1])[:2])


def zero_shot(world, handle, codes, audio, labels) -> dict:
    exact = _exact(world, codes)
    out = {}
    for judge in world.clap_judges(handle, nuisance=True):
        truth = exact[judge.concept]
        keep = ~np.isnan(truth)
        margin = judge.score_audio(list(audio), 32000)
        said = judge.decide(margin)
        wrong = said != truth.astype(bool)
        out[judge.concept] = {"n": int(keep.sum()), "agreement": round(float(1 - wrong[keep].mean()), 4),
                              "auc": round(float(roc_auc_score(truth[keep], margin[keep])), 4),
                              "worst_where": _where_wrong(wrong, labels, judge.concept, keep)}
    return out


def retrieval(world, handle, audio, labels) -> dict:
    a = handle.embed_audio(list(audio), 32000)
    combos = list(itertools.product((1, 0), repeat=4))
    words = [" and ".join(world.words(c)[1 - v] for c, v in zip(PLANTED, combo, strict=True))
             for combo in combos]
    text = np.stack([handle.embed_text([t.format(w) for t in DEFAULT_TEMPLATES]).mean(0) for w in words])
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    sim = text @ a.T  # (16, clips)
    match = np.array([[tuple(row[:4]) == combo for row in labels] for combo in combos])
    top = np.argsort(-sim, axis=1)
    return {"recall_at_1": float(match[np.arange(16), top[:, 0]].mean()),
            "precision_at_10": round(float(np.mean([match[i, top[i, :10]].mean() for i in range(16)])), 4),
            "audio_to_text_accuracy": round(float(match[sim.argmax(0), np.arange(len(a))].mean()), 4),
            "clips": len(a)}


def _distances(embed, ref, with_c, without_c) -> dict:
    n = len(with_c)
    e_ref, e_with, e_without = embed(ref), embed(with_c), embed(without_c)
    halves = mi.measures.fad(e_ref[:n], e_ref[n:])
    fads = []
    for f in FRACTIONS:
        k = int(round(f * n))
        fads.append(mi.measures.fad(e_ref[:n], np.concatenate([e_with[:k], e_without[k:]])))
    with_fad = fads[-1]
    return {"fad_halves": round(halves, 5), "fad_with": round(with_fad, 5), "ratio": round(with_fad / halves, 2),
            "kad_halves": round(mi.measures.kad(e_ref[:n], e_ref[n:]), 5),
            "kad_with": round(mi.measures.kad(e_ref[:n], e_with), 5),
            "fad_by_fraction": [round(x, 5) for x in fads],
            "spearman": round(float(spearmanr(FRACTIONS, fads).statistic), 3)}


def distances(world, model, handle, n: int) -> dict:
    clap = world.clap_measures(model, handle)[0]
    own = mi.measures.model_embedder(model)
    out = {}
    for i, concept in enumerate(PLANTED):
        base = HELDOUT_SEED0 + 100_000 * (i + 1)
        ref = render(torch.stack([c.codes for c in world_clips(range(base, base + 2 * n), 200, **{concept: 0})]))
        seeds = range(base + 50_000, base + 50_000 + n)
        with_c = render(torch.stack([c.codes for c in world_clips(seeds, 200, **{concept: 1})]))
        without_c = render(torch.stack([c.codes for c in world_clips(seeds, 200, **{concept: 0})]))
        out[concept] = {"clap": _distances(clap, ref, with_c, without_c),
                        f"{own.name} (organism's own; no EnCodec)": _distances(own, ref, with_c, without_c)}
    return out


def perturbed_heldout(n: int, seed0: int = HELDOUT_SEED0 + 500_000) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` held-out clips from world seeds ``seed0`` on (by default apart from (a)'s), each with voices
    rewritten: codes and detector labels."""
    pairs = [perturbed_clip(c, np.random.default_rng([seed0 + i, 11]))
             for i, c in enumerate(world_clips(range(seed0, seed0 + n), 200))]
    return torch.from_numpy(np.stack([p[0] for p in pairs])), np.stack([p[1] for p in pairs])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--n-fad", type=int, default=128)
    p.add_argument("--clap", default="organism")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    world = model.world
    handle = mi.judges.load_clap(args.clap)
    handle.cache_size = 8 * args.n
    clips = world_clips(range(HELDOUT_SEED0, HELDOUT_SEED0 + args.n), 200)
    codes = torch.stack([c.codes for c in clips])
    audio, labels = render(codes), np.stack([clip_labels(c) for c in clips])
    figures = {"clap": args.clap, "n_heldout": args.n, "zero_shot": zero_shot(world, handle, codes, audio, labels),
               "retrieval": retrieval(world, handle, audio, labels)}
    p_codes, p_labels = perturbed_heldout(args.n)
    p_audio = render(p_codes)
    figures["zero_shot_perturbed"] = zero_shot(world, handle, p_codes, p_audio, p_labels)
    held = (grammar_report(p_codes)["lead_sustain"] > 0).numpy()
    for name, rows in (("held_lead", held), ("no_held_lead", ~held)):
        figures[f"zero_shot_perturbed_{name}"] = zero_shot(world, handle, p_codes[rows], p_audio[rows], p_labels[rows])
    print({k: figures[k] for k in ("zero_shot", "retrieval", "zero_shot_perturbed")}, flush=True)
    figures["fad"] = distances(world, model, handle, args.n_fad)
    figures["n_fad"] = args.n_fad
    figures["seconds"] = round(time.perf_counter() - t0, 1)
    print_json(figures)


if __name__ == "__main__":
    main()
