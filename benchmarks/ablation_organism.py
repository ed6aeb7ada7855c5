"""Ground truth on the organism: where "drums" is used, by patching, and the causal check in generation.

1. Patching (denoising): the "drums" prompt into the "no drums" prompt on the same drum clips, one cell per
   head of ``--site`` (cross-attention heads carry the text by default), scored by the drum logit difference
   (drum hits vs silence on the drum codebook) and normalised. The top 4 heads patched together give
   ``patch_top_restore``; 4 random heads (drawn from the other heads) averaged over 10 draws give
   ``patch_random_restore``.
2. Generation: mean-ablating those 4 heads (store means) while generating from prompts that ask for drums
   (each prompt also names a random pole of every other concept) gives ``gen_ablate_top_drop`` (points of clips
   with drums lost); 4 random heads (10 draws) give ``gen_ablate_random_drop``; ``collateral`` is the largest
   change (points) in how often another concept follows its prompt word.
   The store's ``cross_z`` means are collected under the null condition, where every cross-attention head
   outputs 0: mean ablation says "nothing was said through these heads", so the references are the drum rate
   of unconditional generation (``drums_rate_unconditional``, the floor a text-free ablation can reach) and of
   the "no drums" prompt (``drums_rate_no_drums_prompt``). Variants (``gen_variants``): the CFG rows edited,
   the top 8 heads, the whole top layer, guidance off, and the generation-time patch
   (``mi.ablation.generate_patched``: the "no drums" prompt's activations of the same heads copied into the
   "drums" run at every step) with its own random-heads control (``gen_patch_top_drop``,
   ``gen_patch_random_drop``, ``collateral_patch``).
3. A skip-layer sweep (teacher-forced cross-entropy per codebook) says which codebook each layer serves; probe
   banks on ``attn_z`` of the same store (validation accuracy, best head per layer) say where each concept is
   read, and ``skip_vs_probe`` puts the two side by side per concept (its codebook: drums -> drums,
   timbre -> brightness, bass -> bass; tempo has no codebook of its own).

    python benchmarks/ablation_organism.py [--n-patch 8] [--n-gen 32] [--site cross_z]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_json  # noqa: E402

import musicinterp as mi  # noqa: E402
from musicinterp.organism.prompts import phrase  # noqa: E402

OTHERS = ("tempo", "timbre", "bass")
CODEBOOK_OF = {"drums": "drums", "timbre": "brightness", "bass": "bass", "tempo": None}


def _restore(model, pair, sets: list, site: str) -> torch.Tensor:
    """Normalised drum logit difference when each set of (layer, head) is patched clean into corrupt."""
    res = mi.ablation.patch_sets(model, pair.clean, pair.corrupt, sets, site=site, metric="logit_diff:drums")
    return res.normalized


def _prompts(n: int, seed: int, drums: int = 1) -> tuple[list[str], dict[str, torch.Tensor]]:
    """Prompts asking for drums (``drums=0``: for no drums), each naming a random pole of every other concept;
    the poles asked for (the same for both values of ``drums``)."""
    g = torch.Generator().manual_seed(seed)
    poles = {c: torch.randint(0, 2, (n,), generator=g) for c in OTHERS}
    texts = [" ".join([phrase("drums", drums)] + [phrase(c, int(poles[c][i])) for c in OTHERS]) for i in range(n)]
    return texts, poles


def _rates(codes: torch.Tensor, poles: dict[str, torch.Tensor]) -> dict[str, float]:
    """Points of clips with drums, and points of clips following each other concept's prompt word."""
    found = mi.organism.detect_all(codes)
    out = {"drums": 100 * float(found["drums"].float().mean())}
    for c in OTHERS:
        out[c] = 100 * float((found[c] == poles[c]).float().mean())
    return out


def _generate(model, texts: list[str], frames: int, heads: list | None, store, site: str, *,
              rows: str = "both", layers: list | None = None, guidance_scale: float | None = None) -> torch.Tensor:
    """Codes generated from ``texts`` with ``heads`` / ``layers`` of ``site`` mean-ablated
    on ``rows`` (none: unablated)."""
    ivs = mi.ablation.ablation_interventions(model, mode="mean", site=site, heads=heads or (), layers=layers or (),
                                             store=store, rows=rows) if heads or layers else ()
    res = mi.generate(model, text=texts, n_frames=frames, seed=0, interventions=ivs, decode_audio=False,
                      guidance_scale=guidance_scale)
    print(f"generated {frames} frames, ablating {heads or layers or 'nothing'} on {rows} rows", flush=True)
    return res.codes


def _patched(model, texts: list[str], corrupt: list[str], frames: int, heads: list, site: str) -> torch.Tensor:
    """Codes generated from ``texts`` with ``heads`` of ``site`` taken from the ``corrupt`` prompts' run."""
    res = mi.ablation.generate_patched(model, texts, corrupt, site=site, heads=heads, n_frames=frames, seed=0,
                                       decode_audio=False)
    print(f"generated {frames} frames, patching {heads} from the corrupt prompts", flush=True)
    return res.patched.codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--site", default="cross_z", choices=["cross_z", "attn_z"])
    ap.add_argument("--n-patch", type=int, default=8, help="clips teacher-forced under the two prompts")
    ap.add_argument("--n-gen", type=int, default=32, help="generations per condition")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--draws", type=int, default=10, help="random head sets")
    ap.add_argument("--top", type=int, default=4)
    ap.add_argument("--patch-draws", type=int, default=10, help="random head sets for the generation-time patch")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = mi.load_model("organism")
    site = args.site

    # 1. patching: where the prompt's drums are used
    pair = model.world.prompt_pair(model, "drums", args.n_patch, n_frames=args.frames)
    grid = mi.patch(model, pair.clean, pair.corrupt, site=site, over=("layer", "head"), metric="logit_diff:drums",
                    progress=False)
    top = [cell for cell, _ in grid.top(args.top)]
    others = [(layer, h) for layer in range(model.n_layers) for h in range(model.n_heads) if (layer, h) not in top]
    g = torch.Generator().manual_seed(1)
    draws = [[others[i] for i in torch.randperm(len(others), generator=g)[: args.top].tolist()]
             for _ in range(args.draws)]
    restore = _restore(model, pair, [top] + draws, site)
    layer_sweep = mi.patch(model, pair.clean, pair.corrupt, site=site, over=("layer",), metric="logit_diff:drums",
                           progress=False)
    print(grid)
    print("top heads", grid.top(args.top), "restore together", float(restore[0]))
    print("random draws", [round(float(x), 3) for x in restore[1:]], flush=True)

    # 2. generation: mean-ablate the heads while asking for drums
    store = mi.collect(model, mi.organism.balanced_set("drums", 128, seed=7), sorted({site, "attn_z"}),
                       out=Path(tempfile.mkdtemp()) / "s", frames="pooled", progress=False)
    texts, poles = _prompts(args.n_gen, seed=3)
    no_drums, _ = _prompts(args.n_gen, seed=3, drums=0)
    base = _rates(_generate(model, texts, args.frames, None, store, site), poles)
    ablated = _rates(_generate(model, texts, args.frames, top, store, site), poles)
    random_rates = [_rates(_generate(model, texts, args.frames, d, store, site), poles) for d in draws]
    top_drop = base["drums"] - ablated["drums"]
    random_drops = [base["drums"] - r["drums"] for r in random_rates]
    collateral = {c: abs(ablated[c] - base[c]) for c in OTHERS}
    print("unablated", base, "top ablated", ablated)

    # 2b. references and variants: what a text-free ablation can reach, and what closes the gap
    uncond = mi.generate(model, batch=args.n_gen, n_frames=args.frames, seed=0, decode_audio=False).codes
    floor = _rates(uncond, poles)["drums"]
    asked_none = _rates(_generate(model, no_drums, args.frames, None, store, site), poles)["drums"]
    top8 = [cell for cell, _ in grid.top(2 * args.top)]
    base_gs1 = _rates(_generate(model, texts, args.frames, None, store, site, guidance_scale=1.0), poles)["drums"]
    variants = {
        "mean_top_rows_cond": _generate(model, texts, args.frames, top, store, site, rows="cond"),
        "mean_top_rows_uncond": _generate(model, texts, args.frames, top, store, site, rows="uncond"),
        f"mean_top{2 * args.top}": _generate(model, texts, args.frames, top8, store, site),
        f"mean_layer{top[0][0]}": _generate(model, texts, args.frames, None, store, site, layers=[top[0][0]]),
        "mean_top_guidance_off": _generate(model, texts, args.frames, top, store, site, guidance_scale=1.0),
        "patch_top": _patched(model, texts, no_drums, args.frames, top, site),
    }
    drops = {}
    for name, codes in variants.items():
        ref = base_gs1 if name.endswith("guidance_off") else base["drums"]
        drops[name] = round(ref - _rates(codes, poles)["drums"], 2)
    patched = _rates(variants["patch_top"], poles)
    patch_random = [base["drums"] - _rates(_patched(model, texts, no_drums, args.frames, d, site), poles)["drums"]
                    for d in draws[: args.patch_draws]]
    collateral_patch = {c: abs(patched[c] - base[c]) for c in OTHERS}
    best = max(drops, key=lambda k: drops[k])
    print("unconditional", floor, "no drums prompt", asked_none, "variant drops", drops)

    # 3. skip-layer sweep: which codebook each layer serves
    clips = torch.stack([mi.organism.OrganismWorld(args.frames).sample(500 + i).codes for i in range(args.n_patch)])
    skip = mi.ablate(model, clips, mode="skip", metric="ce", progress=False)
    delta = (skip.per_codebook - skip.clean_per_codebook).tolist()
    serves = {str(layer): {cb: round(v, 4) for cb, v in zip(skip.codebooks, row, strict=True)}
              for layer, row in zip(skip.labels["layer"], delta, strict=True)}
    main_cb = {str(layer): skip.codebooks[int(torch.tensor(row).argmax())]
               for layer, row in zip(skip.labels["layer"], delta, strict=True)}
    print("skip-layer change in CE per codebook", serves)
    skip_vs_probe = {}
    for concept, cb in CODEBOOK_OF.items():
        acc = mi.fit_probe_bank(store, concept, "attn_z").accuracy_grid().float()  # (L, H) validation accuracy
        per_layer = acc.max(dim=1).values
        used = None if cb is None else [row[skip.codebooks.index(cb)] for row in delta]
        skip_vs_probe[concept] = {
            "probe_best_head_acc_per_layer": [round(float(x), 3) for x in per_layer],
            "probe_best_layer": int(per_layer.argmax()), "codebook": cb,
            "skip_ce_change_per_layer": None if used is None else [round(float(x), 4) for x in used],
            "skip_most_used_layer": None if used is None else int(torch.tensor(used).argmax()),
        }
    print("skip vs probe", skip_vs_probe)

    print_json({
        "site": site, "n_patch": args.n_patch, "n_gen": args.n_gen, "frames": args.frames,
        "top_heads": [list(c) for c in top], "clean_logit_diff": round(grid.clean, 4),
        "corrupt_logit_diff": round(grid.corrupt, 4),
        "single_head_restore": {f"L{c[0]}H{c[1]}": round(s, 4) for c, s in grid.top(args.top)},
        "layer_restore": [round(float(x), 4) for x in layer_sweep.normalized],
        "patch_top_restore": round(float(restore[0]), 4),
        "patch_random_restore": round(float(restore[1:].mean()), 4),
        "drums_rate_unablated": round(base["drums"], 2),
        "gen_ablate_top_drop": round(top_drop, 2),
        "gen_ablate_random_drop": round(sum(random_drops) / len(random_drops), 2),
        "gen_ablate_random_drop_max": round(max(random_drops), 2),
        "collateral": round(max(collateral.values()), 2),
        "collateral_per_concept": {c: round(v, 2) for c, v in collateral.items()},
        "drums_rate_unconditional": round(floor, 2), "drums_rate_no_drums_prompt": round(asked_none, 2),
        "gen_ablate_top_drop_ceiling": round(base["drums"] - floor, 2),
        "drums_rate_unablated_guidance_off": round(base_gs1, 2),
        "gen_variants_drop": drops, "gen_best_variant": best, "gen_best_variant_drop": drops[best],
        "gen_patch_top_drop": drops["patch_top"],
        "gen_patch_random_drop": round(sum(patch_random) / max(len(patch_random), 1), 2),
        "gen_patch_random_drop_max": round(max(patch_random, default=0.0), 2),
        "collateral_patch": round(max(collateral_patch.values()), 2),
        "collateral_patch_per_concept": {c: round(v, 2) for c, v in collateral_patch.items()},
        "skip_layer_ce_change": serves, "skip_layer_serves": main_cb,
        "skip_vs_probe": skip_vs_probe,
        "targets": {"patch_top_restore": ">= 0.8", "patch_random_restore": "<= 0.2", "gen_ablate_top_drop": ">= 50",
                    "gen_ablate_random_drop": "<= 10", "collateral": "<= 15",
                    "gen_patch_top_drop": ">= 50 (same target, patched instead of mean-ablated)",
                    "gen_patch_random_drop": "<= 10", "collateral_patch": "<= 15"},
        "minutes": round((time.perf_counter() - t0) / 60, 1),
    })


if __name__ == "__main__":
    main()
