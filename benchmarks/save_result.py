"""Run one benchmark and save its JSON last line, with the command, as ``benchmarks/results/NAME.json``.

The page ``docs/results.md`` is written from these files by ``results_page.py``; this is the one way a
result gets there, so every figure on the page names the command that produced it:

    python benchmarks/save_result.py organism_quality -- python benchmarks/organism_quality.py --n 64
    python benchmarks/save_result.py probe_fit --note "machine otherwise idle" -- python benchmarks/probe_fit.py

The benchmark's output passes through unchanged. Nothing is written when it fails or when its last line is
not a JSON object; the file is replaced atomically when it succeeds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def run(command: list[str]) -> tuple[int, str, float]:
    """Run ``command``, echoing its output; return (exit code, last non-empty line, seconds)."""
    start, last = time.perf_counter(), ""
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            if line.strip():
                last = line.strip()
    return proc.returncode, last, time.perf_counter() - start


def record(name: str, command: list[str], note: str | None) -> Path:
    code, last, seconds = run(command)
    if code != 0:
        raise SystemExit(f"{shlex.join(command)} exited with {code}; {RESULTS / name}.json left as it was")
    try:
        figures = json.loads(last)
    except json.JSONDecodeError:
        raise SystemExit(f"the last line of {shlex.join(command)} is not JSON: {last[:200]!r}") from None
    if not isinstance(figures, dict):
        raise SystemExit(f"the last line of {shlex.join(command)} is JSON but not an object")
    figures["_command"] = shlex.join(command) + (f" ({note})" if note else "")
    figures["_wall_s"] = round(seconds, 1)
    figures["_machine"] = f"{os.cpu_count()} CPU cores, {platform.machine()}, torch threads as the command sets"
    target = RESULTS / f"{name}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(figures, indent=1) + "\n")
    os.replace(tmp, target)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="file stem under benchmarks/results/ (a known stem picks its table on the page)")
    ap.add_argument("--note", default=None, help="how it was run, shown beside the command (e.g. the machine's load)")
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        ap.parse_args([a for a in argv if a != "--"])  # --help prints the usage here
        ap.error("give the benchmark's command after --")
    cut = argv.index("--")
    args, command = ap.parse_args(argv[:cut]), argv[cut + 1:]
    if not args.name.replace("-", "_").replace(".", "_").isidentifier():
        ap.error(f"name {args.name!r}: use letters, digits, '_' and '-'")
    print(json.dumps({"saved": str(record(args.name, command, args.note))}))


if __name__ == "__main__":
    main()
