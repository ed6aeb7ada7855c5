"""Write ``docs/results.md`` from the benchmarks' saved JSON (``benchmarks/results/*.json``), never by hand.

Each ``benchmarks/results/NAME.json`` is a benchmark's JSON last line, saved with
the command that produced it under ``"_command"``:

    python benchmarks/audio_metrics.py | tail -1 > /tmp/x.json   # then add "_command" and save it here
    python benchmarks/results_page.py            # rewrites docs/results.md
    python benchmarks/results_page.py --check    # exit 1 when docs/results.md differs from the JSON

Known benchmarks get their own tables (the house figures, audio measures, the
steering matrix with intervals and verdicts); any other JSON is shown as a
table of its numbers. Tables published with earlier code follow, verbatim, from
``benchmarks/results/archive/*.md``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAGE = HERE.parent / "docs" / "results.md"


def fmt(v: Any) -> str:
    """Numbers with three significant digits (integers as they are), intervals as ``v [lo, hi]``."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict) and {"value", "low", "high"} <= set(v):
        return f"{fmt(v['value'])} [{fmt(v['low'])}, {fmt(v['high'])}]"
    return str(v)


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def flat(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Scalar leaves (and intervals) of nested JSON as (dotted key, value)."""
    if isinstance(data, dict) and not ({"value", "low", "high"} <= set(data)):
        out = []
        for k, v in data.items():
            if not str(k).startswith("_"):
                out += flat(v, f"{prefix}{k}.")
        return out
    if isinstance(data, list):
        return [(prefix[:-1], data)] if len(json.dumps(data)) < 80 else []
    return [(prefix[:-1], data)]


def structure(data: dict) -> str:
    rows = [[k, data[k], data["targets"][k], "met" if data["met"][k] else "not met"] for k in data["targets"]]
    return table(["figure", "value", "target", ""], rows)


def audio_metrics(data: dict) -> str:
    g = data["gaussians"]
    out = [table(["check on Gaussians", "value"], [[k, v] for k, v in g.items()]), ""]
    rows = [[name, e["dim"], e["fad_drums"], e["fad_halves"], e["fad_ratio"], e["kad_drums"], e["kad_halves"]]
            for name, e in data.items() if isinstance(e, dict) and "fad_ratio" in e]
    out.append(table(["embedder", "dims", "FAD drums vs none", "FAD two halves", "ratio (target >= 5)",
                      "KAD drums vs none", "KAD two halves"], rows))
    return "\n".join(out)


def _ci(cell: dict, key: str) -> str:
    if cell.get(key) is None:
        return ""
    lo, hi = cell.get(f"{key}_lo"), cell.get(f"{key}_hi")
    return f"{cell[key]:.2f}" + ("" if lo is None else f" [{lo:.2f}, {hi:.2f}]")


def steering_matrix(data: dict) -> str:
    head = [f"n = {data['n']} prompts per setting; task {data['task']}: {data['cells_pass']} cells pass, "
            f"{data['cells_fail']} fail, {data['cells_undecided']} undecided of {data['cells_total']} "
            "(95% intervals; pass only where success, validity and collateral each clear their limit and "
            "success beats the random-direction control)", ""]
    rows = [[m, c, d, cell.get("strength"), _ci(cell, "success"), _ci(cell, "validity"), _ci(cell, "collateral"),
             cell.get("verdict")]
            for m, by_c in data["cells"].items() for c, by_d in by_c.items() for d, cell in by_d.items()]
    head.append(table(["method", "concept", "direction", "strength", "success", "validity", "collateral",
                       "verdict"], rows))
    ctl = data.get("controls", {}).get(data["task"], [])
    if ctl:
        head += ["", "Random-direction controls (success at the strength where the method first reaches 90%) "
                 "and dose-response slopes (success per unit strength):", ""]
        head.append(table(["method", "concept", "direction", "reach strength", "control success", "slope",
                           "control slope"],
                          [[r["method"], r["concept"], r["direction"], r["reach_strength"],
                            r["control_success_at_reach"],
                            {"value": r["slope"]["slope"], "low": r["slope"]["slope_lo"],
                             "high": r["slope"]["slope_hi"]}, r["control_slope"]] for r in ctl]))
    floors = data.get("n_for_halfwidth_5pt", {}).get(data["task"], {})
    if floors:
        head += ["", "Prompts a +/-5-point collateral interval needs, per pair (from the measured floor):", ""]
        head.append(table(["pair", "n"], [[k, v] for k, v in floors.items()]))
    return "\n".join(head)


RENDER: dict[str, tuple[str, Callable[[dict], str]]] = {
    "structure": ("The house: structure figures", structure),
    "audio_metrics": ("Audio measures: FAD and KAD on Gaussians and organism renders", audio_metrics),
    "steering_matrix": ("The steering matrix on the organism, with intervals and controls", steering_matrix),
}


def section(name: str, data: dict) -> str:
    title, render = RENDER.get(name.split("-")[0], (name.replace("_", " "), None))
    body = render(data) if render else table(["figure", "value"], [[k, v] for k, v in flat(data)])
    return f"## {title}\n\nCommand: `{data.get('_command', 'unknown')}`\n\n{body}\n"


def render_page() -> str:
    parts = ["# Results", "", "Generated by `python benchmarks/results_page.py` from the JSON in `benchmarks/results/` "
             "(each benchmark's last line, saved with the command that produced it). Do not edit by hand: a test "
             "checks this page against the JSON.", ""]
    for path in sorted(RESULTS.glob("*.json")):
        parts.append(section(path.stem, json.loads(path.read_text())))
    shots = sorted((PAGE.parent / "img").glob("report_*.png"))
    if shots:  # the offline report of `make demo`, one screenshot per section (tests/report/test_screens.py)
        parts.append("## The report of `make demo`, section by section\n")
        parts += [f"![{p.stem.removeprefix('report_').replace('_', ' ')}](img/{p.name})\n" for p in shots]
    archive = sorted((RESULTS / "archive").glob("*.md"))
    if archive:
        parts.append("## Earlier measurements\n")
        # archived code blocks belong to the code of their time: shown as text, never run as they stand
        parts += [re.sub(r"^```(python|bash)$", "```text", p.read_text(), flags=re.M) for p in archive]
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare docs/results.md with the JSON, write nothing")
    args = ap.parse_args()
    page = render_page()
    if args.check:
        same = PAGE.is_file() and PAGE.read_text() == page
        print(json.dumps({"results_page_current": same}))
        sys.exit(0 if same else 1)
    PAGE.write_text(page)
    print(json.dumps({"written": str(PAGE), "bytes": len(page.encode()), "sections": page.count("\n## ")}))


if __name__ == "__main__":
    main()
