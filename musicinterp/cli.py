"""The ``musicinterp`` command line; subcommands mirror the Python API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _cmd_info(args: argparse.Namespace) -> int:
    from .models import load_model

    model = load_model(args.model, dtype=args.dtype, device=args.device)
    info = model.describe()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['name']} ({info['source']}), fingerprint {info['fingerprint']}")
    print(f"  decoder: {info['layers']} layers x {info['heads']} heads x {info['head_dim']} dims "
          f"(d_model {info['d_model']}), {info['decoder_parameters'] / 1e6:.1f}M parameters, {info['dtype']}")
    print(f"  codes:   {info['codebooks']} codebooks of {info['codebook_size']}, {info['frame_rate']} frames/s, "
          f"audio at {info['sample_rate']} Hz")
    print("  sites:")
    for name, site in info["sites"].items():
        print(f"    {name:8s} {str(tuple(site['shape'])):12s} {site['description']}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.out, model_spec=args.model, quick=args.quick)
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from .collect import collect, collect_prompts
    from .data.manifest import load_manifest, to_concept_set
    from .models import load_model

    manifest = load_manifest(args.manifest)
    concept_set = to_concept_set(manifest, root=args.root)
    model = load_model(args.model, device=args.device)
    if concept_set.kind == "prompts":
        store = collect_prompts(model, concept_set, args.sites, out=args.out, n_steps=args.steps,
                                frames="pooled" if args.frames == "pooled" else "all", branch=args.branch,
                                dtype=args.dtype, batch_size=args.batch_size, overwrite=args.overwrite)
    else:
        frames = args.frames
        if "," in frames:
            frames = tuple(int(x) for x in frames.split(","))
        store = collect(model, concept_set, args.sites, out=args.out, frames=frames, dtype=args.dtype,
                        batch_size=args.batch_size, memory_budget_mb=args.budget_mb, skip_bad=args.skip_bad,
                        overwrite=args.overwrite, text=args.text)
    print(store)
    if store.meta["skipped"]:
        print(f"skipped {len(store.meta['skipped'])} bad entries (listed in {store.root / 'metadata.json'})")
    return 0


def _cmd_stems(args: argparse.Namespace) -> int:
    from .data.stems import build_stem_manifest

    path = build_stem_manifest(args.stems_root, args.out, stem=args.stem, segment_s=args.segment,
                               max_segments_per_track=args.max_segments)
    print(f"wrote {path}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .probes import ProbeConfig, fit_probe_bank
    from .store import ActivationStore
    from .views.offline import save_figure_html
    from .views.probes import head_heatmap, layer_accuracy_curve

    store = ActivationStore.open(args.store)
    bank = fit_probe_bank(store, args.concept, args.site, pooling=args.pooling,
                          config=ProbeConfig(kind=args.kind, C=args.C, device=args.device))
    out = Path(args.out) if args.out else store.root / "probes" / f"{args.concept}-{args.site}-{args.pooling}"
    bank.save(out)
    if len(bank.grid) == 2:
        save_figure_html(head_heatmap(bank), out / "heatmap.html")
        save_figure_html(head_heatmap(bank, sort=True), out / "heatmap_sorted.html")
    else:
        save_figure_html(layer_accuracy_curve([bank]), out / "layers.html")
    best = ", ".join(f"{idx} {acc:.3f}" for idx, acc in bank.best(3))
    print(f"{args.concept} @ {args.site} ({args.pooling}): best {best}; n train {bank.n_train}, val {bank.n_val}")
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musicinterp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="print a model's shapes and sites")
    p.add_argument("model", help="tiny, random-small|medium|large, organism, or a local checkpoint path/id")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--device", default="cpu", help="cpu, cuda, or meta (shapes only, no memory)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("demo", help="the main job on the model organism")
    p.add_argument("--out", default="musicinterp_out", help="output folder")
    p.add_argument("--model", default=None, help="model to run on (default: the organism)")
    p.add_argument("--quick", action="store_true", help="a smaller, faster run")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("collect", help="collect activations of a manifest's concept set into a store")
    p.add_argument("manifest", help="a manifest (.json/.jsonl; see data_manifests/)")
    p.add_argument("--model", default="organism")
    p.add_argument("--out", required=True, help="store folder (an unfinished one is resumed)")
    p.add_argument("--root", default=None, help="folder audio paths are relative to (default: the manifest's)")
    p.add_argument("--sites", nargs="+", default=["attn_z", "resid"])
    p.add_argument("--frames", default="valid", help="valid, last, all, pooled, or a window 'a,b'")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--budget-mb", type=float, default=512, help="memory budget for buffered writes")
    p.add_argument("--text", default=None, help="condition clips on this text (branch 'cond')")
    p.add_argument("--steps", type=int, default=50, help="generation steps for prompt sets")
    p.add_argument("--branch", default="cond", choices=["cond", "uncond", "both"], help="CFG rows for prompt sets")
    p.add_argument("--skip-bad", action="store_true", help="skip bad entries (recorded in the metadata)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser("probe", help="fit a probe bank from a store and write its heatmap")
    p.add_argument("store")
    p.add_argument("--concept", required=True)
    p.add_argument("--site", default="attn_z")
    p.add_argument("--pooling", default="mean", choices=["mean", "last"])
    p.add_argument("--kind", default="logistic", choices=["logistic", "linear"])
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=None, help="folder (default: STORE/probes/CONCEPT-SITE-POOLING)")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser("stems", help="build a with/without-stem manifest from a stems folder (e.g. MUSDB18)")
    p.add_argument("stems_root")
    p.add_argument("--out", required=True)
    p.add_argument("--stem", default="drums")
    p.add_argument("--segment", type=float, default=10.0, help="segment length in seconds")
    p.add_argument("--max-segments", type=int, default=None, help="per track")
    p.set_defaults(func=_cmd_stems)

    from .organism.cli import add_organism_parser
    from .steering.cli import add_steering_parsers

    add_steering_parsers(sub)

    add_organism_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        print(f"musicinterp: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
