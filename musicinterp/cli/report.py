"""``musicinterp report DIR``: one offline HTML file from a results folder or an activation store."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_report(args: argparse.Namespace) -> int:
    from ..report.build import build_report

    report = build_report(args.folder, title=args.title, audio_budget_mb=args.audio_budget_mb)
    out = Path(args.out) if args.out else Path(args.folder) / "report.html"
    report.save(out)
    size = out.stat().st_size / 1e6
    sidecar = out.with_name(out.stem + "_files")
    extra = f" (+ {len(list(sidecar.iterdir()))} WAVs in {sidecar})" if sidecar.is_dir() else ""
    print(f"wrote {out}: {len(report)} items in {len(report.sections)} sections, {size:.1f} MB{extra}")
    return 0


def add_report_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report`` on the main command line."""
    p = subparsers.add_parser("report", help="build one offline HTML report from a results folder or a store",
                              description=__doc__)
    p.add_argument("folder", metavar="STORE_OR_OUTPUT_DIR",
                   help="a results folder (figures/, tables/, audio/, text/, provenance.json) or an activation store")
    p.add_argument("--out", default=None, help="the HTML file to write (default: DIR/report.html)")
    p.add_argument("--title", default=None, help="report title (default: sections.json's, or the folder name)")
    p.add_argument("--audio-budget-mb", type=float, default=20.0,
                   help="audio embedded in the HTML up to this size; the rest goes to a _files/ folder beside it")
    p.set_defaults(func=_cmd_report)
