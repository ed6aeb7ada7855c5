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

    from .organism.cli import add_organism_parser

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
