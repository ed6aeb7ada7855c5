"""The ``musicinterp`` command line; subcommands mirror the Python API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ..data.names import safe_name


def _cmd_info(args: argparse.Namespace) -> int:
    from ..models import load_model

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
    from ..demo.run import run_demo

    run_demo(args.out, model_spec=args.model, quick=args.quick)
    return 0


def _cmd_stems(args: argparse.Namespace) -> int:
    from ..data.stems import build_stem_manifest

    path = build_stem_manifest(args.stems_root, args.out, stem=args.stem, segment_s=args.segment,
                               max_segments_per_track=args.max_segments)
    print(f"wrote {path}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..probes import ProbeConfig, fit_probe_bank
    from ..store import ActivationStore
    from ..views.offline import save_figure_html
    from ..views.probes import head_heatmap, layer_accuracy_curve

    store = ActivationStore.open(args.store)
    bank = fit_probe_bank(store, args.concept, args.site, pooling=args.pooling,
                          config=ProbeConfig(kind=args.kind, C=args.C, device=args.device))
    out = Path(args.out) if args.out else store.root / "probes" / (
        f"{safe_name(args.concept, field='--concept')}-{safe_name(args.site, field='--site')}-{args.pooling}")
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

    from ..models.sources import sources
    from .ablation import add_ablation_parsers
    from .collect import add_collect_parsers
    from .report import add_report_parsers
    from .sae import add_sae_parsers
    from .steer import add_steering_parsers

    add_collect_parsers(sub)
    add_steering_parsers(sub)
    add_sae_parsers(sub)
    add_ablation_parsers(sub)
    for source in sources():  # a model source's own group (musicinterp organism train ...)
        if source.add_commands is not None:
            source.add_commands(sub)
    add_report_parsers(sub)
    return parser


def _project_errors() -> tuple[type[BaseException], ...]:
    """User errors (bad input, a missing file, a refused setting): one stderr line and exit 2, never a traceback.
    Anything else is a bug: its traceback is printed and the exit status is 1."""
    from ..errors import MusicInterpError

    return (MusicInterpError,)


PROJECT_ERRORS = _project_errors()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PROJECT_ERRORS as err:
        message = " ".join(str(err).split())  # one line, whatever the error's own layout
        print(f"musicinterp: error: {type(err).__name__}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
