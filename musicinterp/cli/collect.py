"""``musicinterp collect MANIFEST --out STORE``: collect a manifest's concept set into a store.

Works under ``accelerate launch -m musicinterp collect ... --distributed``: each
process loads the model on its own device and collects its slice of the clips.
Project errors (StoreError, BadEntryError, ...) propagate to the CLI's main.
"""

from __future__ import annotations

import argparse


def _frames(value: str) -> str | tuple[int, int]:
    if "," not in value:
        return value
    try:
        a, b = (int(x) for x in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a frame window is 'start,stop' in frames, got {value!r}") from None
    return (a, b)


def _cmd_collect(args: argparse.Namespace) -> int:
    from ..collect.clips import collect
    from ..collect.distributed import processes
    from ..collect.prompts import collect_prompts
    from ..data.manifest import load_manifest, to_concept_set
    from ..models import load_model

    procs = processes(args.distributed)
    device = procs.device() if args.distributed and args.device == "auto" else args.device
    manifest = load_manifest(args.manifest)
    concept_set = to_concept_set(manifest, root=args.root)
    model = load_model(args.model, device="cpu" if device == "auto" else device)
    common = {"out": args.out, "dtype": args.dtype, "batch_size": args.batch_size, "overwrite": args.overwrite,
              "distributed": args.distributed, "progress": not args.quiet}
    if concept_set.kind == "prompts":
        store = collect_prompts(model, concept_set, args.sites, n_steps=args.steps, branch=args.branch,
                                frames="pooled" if args.frames == "pooled" else "all", **common)
    else:
        store = collect(model, concept_set, args.sites, frames=args.frames, memory_budget_mb=args.budget_mb,
                        skip_bad=args.skip_bad, text=args.text, **common)
    if procs.is_main:
        print(store)
        if store.meta["skipped"]:
            print(f"skipped {len(store.meta['skipped'])} bad entries (listed in {store.root / 'metadata.json'})")
    return 0


def add_collect_parsers(subparsers) -> None:
    """Register ``collect`` on the ``musicinterp`` command line."""
    p = subparsers.add_parser("collect", help="collect activations of a manifest's concept set into a store")
    p.add_argument("manifest", help="a manifest (.json/.jsonl; see data_manifests/)")
    p.add_argument("--model", default="organism")
    p.add_argument("--out", required=True,
                   help="store folder (an unfinished one is resumed, a finished one of the same request reused)")
    p.add_argument("--root", default=None, help="folder audio paths are relative to (default: the manifest's)")
    p.add_argument("--sites", nargs="+", default=["attn_z", "resid"])
    p.add_argument("--frames", type=_frames, default="valid", help="valid, last, all, pooled, or a window 'a,b'")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--budget-mb", type=float, default=512, help="memory budget for buffered writes")
    p.add_argument("--text", default=None, help="condition clips on this text (branch 'cond')")
    p.add_argument("--steps", type=int, default=50, help="generation steps for prompt sets")
    p.add_argument("--branch", default="cond", choices=["cond", "uncond", "both"], help="CFG rows for prompt sets")
    p.add_argument("--skip-bad", action="store_true", help="skip bad entries (recorded in the metadata)")
    p.add_argument("--overwrite", action="store_true", help="replace a store collected with other settings")
    p.add_argument("--device", default="auto",
                   help="cpu, cuda, ...; auto: the process's accelerate device with --distributed, else cpu")
    p.add_argument("--distributed", action="store_true",
                   help="split the clips over the processes of `accelerate launch -m musicinterp collect ...`")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_collect)
