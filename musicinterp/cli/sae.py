"""``musicinterp sae train|eval|features|steer``: the SAE workflow from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data.names import safe_name


def _cmd_train(args: argparse.Namespace) -> int:
    from ..sae import train
    from ..store import ActivationStore

    store = ActivationStore.open(args.store)
    schedule = {k: getattr(args, k) for k in ("warmup_steps", "threshold_start_step", "dead_tokens")
                if getattr(args, k) is not None}
    sae = train(store, args.site, layer=args.layer, head=args.head, arch=args.arch, dict_size=args.dict_size,
                k=args.k, steps=args.steps, lr=args.lr, batch_size=args.batch_size, seed=args.seed, out=args.out,
                checkpoint_every=args.checkpoint_every, resume=not args.no_resume, device=args.device, **schedule)
    last = sae.meta["history"][-1] if sae.meta.get("history") else {}
    print(f"{sae}: final batch FVE {last.get('fve', float('nan')):.3f}, L0 {last.get('l0', float('nan')):.1f}; "
          f"saved to {args.out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from ..models import load_model
    from ..sae import load
    from ..sae.evaluate import evaluate
    from ..store import ActivationStore
    from ..views.offline import save_figure_html
    from ..views.sae import density_histogram, evaluation_bars

    model = load_model(args.model)
    sae = load(args.sae, model)
    res = evaluate(sae, ActivationStore.open(args.store, model=model), model, n_clips=args.n_clips)
    print(res)
    print(res.to_pandas().to_string(float_format=lambda v: f"{v:.4f}"))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps({**res.summary(), "per_codebook": res.per_codebook}, indent=1))
        save_figure_html(density_histogram(res), out / "density_histogram.html")
        save_figure_html(evaluation_bars(res.per_codebook), out / "spliced_scores.html")
        print(f"wrote evaluation.json and figures to {out}")
    return 0


def _cmd_features(args: argparse.Namespace) -> int:
    from ..sae import load
    from ..sae.features import analyze
    from ..store import ActivationStore
    from ..views.offline import save_figure_html
    from ..views.sae import decoder_map, feature_page

    sae = load(args.sae)
    an = analyze(sae, ActivationStore.open(args.store))
    print(an)
    concepts = [args.concept] if args.concept else an.concepts
    for c in concepts:
        best = an.best(c, args.top)
        print(f"{c}: " + ", ".join(f"f{f} (AUC {float(an.auc[c][f]):.3f}, density {float(an.density[f]):.4f})"
                                    for f in best))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        an.table().to_csv(out / "features.csv")
        for c in concepts:
            f = an.best(c)[0]
            save_figure_html(feature_page(an, f), out / f"feature_{f}_{safe_name(c, field='--concept')}.html")
        if args.map:
            save_figure_html(decoder_map(an), out / "feature_map.html")
        print(f"wrote features.csv and feature pages to {out}")
    return 0


def _cmd_steer(args: argparse.Namespace) -> int:
    from ..sae import load
    from ..steering.sae import SAESteerer, SAESteererConfig
    from ..store import ActivationStore

    cfg = SAESteererConfig(sae=load(args.sae), features=args.features, n_features=args.n_features, mode=args.mode,
                           when=args.when, strength=args.alpha, keep_error=not args.drop_error, remove=args.remove)
    steerer = SAESteerer.fit(ActivationStore.open(args.store), args.concept, cfg)
    steerer.save(args.out)
    print(f"{steerer}: features {steerer.features}; saved to {args.out} "
          f"(generate with: musicinterp steer {args.out})")
    return 0


def add_sae_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``musicinterp sae ...`` on the top-level subparsers."""
    sae = sub.add_parser("sae", help="sparse autoencoders: train, evaluate, explore features, steer")
    cmds = sae.add_subparsers(dest="sae_command", required=True)

    p = cmds.add_parser("train", help="train a TopK/BatchTopK SAE on one site and layer of a store")
    p.add_argument("store")
    p.add_argument("--site", default="resid")
    p.add_argument("--layer", type=int, required=True)
    p.add_argument("--head", type=int, default=None, help="one head of a per-head site (else heads flattened)")
    p.add_argument("--arch", default="topk", choices=["topk", "batch_topk"])
    p.add_argument("--dict-size", type=int, default=1024)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--no-resume", action="store_true", help="start over even if OUT holds a checkpoint")
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument("--threshold-start-step", type=int, default=None)
    p.add_argument("--dead-tokens", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, help="folder for sae.safetensors + sae.json")
    p.set_defaults(func=_cmd_train)

    p = cmds.add_parser("eval", help="FVE, L0, dead/dense fractions and spliced CE/KL scores")
    p.add_argument("sae")
    p.add_argument("store")
    p.add_argument("--model", default="organism")
    p.add_argument("--n-clips", type=int, default=32)
    p.add_argument("--out", default=None, help="folder for evaluation.json and figures")
    p.set_defaults(func=_cmd_eval)

    p = cmds.add_parser("features", help="selectivity of every feature for every label; feature pages")
    p.add_argument("sae")
    p.add_argument("store")
    p.add_argument("--concept", default=None)
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--map", action="store_true", help="also draw the UMAP of decoder directions")
    p.add_argument("--out", default=None, help="folder for features.csv and figures")
    p.set_defaults(func=_cmd_features)

    p = cmds.add_parser("steer", help="fit an SAE steerer (saved like any steerer)")
    p.add_argument("sae")
    p.add_argument("store")
    p.add_argument("--concept", required=True)
    p.add_argument("--features", type=int, nargs="*", default=None, help="by hand (default: most selective)")
    p.add_argument("--n-features", type=int, default=1)
    p.add_argument("--mode", default="add", choices=["add", "clamp", "scale", "ablate"])
    p.add_argument("--when", default="always", choices=["always", "when_active"])
    p.add_argument("--alpha", type=float, default=4.0)
    p.add_argument("--drop-error", action="store_true", help="replace x by decode(f') (loses the SAE's error)")
    p.add_argument("--remove", action="store_true", help="mode add: subtract the directions")
    p.add_argument("--out", required=True, help="steerer folder")
    p.set_defaults(func=_cmd_steer)
