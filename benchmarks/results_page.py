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


def steering_matrix_variants(data: dict) -> str:
    cal, clap = data["calibration_check"], data["clap_agreement"]
    out = [f"n = {data['n']} continuations per cell (the strength finder used {data['cal_n']} other prompts); "
           f"pairs run: {', '.join(data['pairs'])}; methods: {', '.join(data['methods'])}. Each method in four "
           "variants (plain, keep-set, bounded edit, both), each at its calibrated strength; "
           f"{data['cells_pass_any_variant']} of {data['cells_total_any_variant']} method cells pass in some variant "
           f"({data['cells_point_pass_any_variant']} are inside every limit at their point values; at n = {data['n']} "
           f"even a cell with every clip valid has a validity interval from {data['validity_lo_all_valid']}, below "
           "the 0.95 limit, so no cell can pass at this n); "
           f"{data['passing_beat_control']} of {data['passing']} passing rows beat their random-direction control "
           f"(control success <= 10%); the finder's strength, where calibration reached 90%, reached 85% on the "
           f"evaluation prompts in {cal['reach_0.85']} of {cal['cells']} rows; CLAP success within 10 points of "
           f"the detector's in {clap['within_10pt']} of {clap['cells']} rows.", ""]
    out.append(table(["variant", "pass", "fail", "undecided", "cells", "inside the limits at point values"],
                     [[v, c["pass"], c["fail"], c["undecided"], c["cells"], c["point_pass"]]
                      for v, c in data["by_variant"].items()]))
    if data["keep_effect"]:
        out += ["", "Where the plain method's collateral is over 10 points: the keep-set variant beside it "
                "(target: collateral at least halved at equal success):", ""]
        out.append(table(["method", "pair", "plain success", "plain collateral", "keep success",
                          "keep collateral", "halved"],
                         [[k["method"], k["pair"], k["plain_success"], k["plain_collateral"], k["keep_success"],
                           k["keep_collateral"], k["halved_at_equal_success"]] for k in data["keep_effect"]]))
    out += ["", "Every cell (strength from: the finder's choice, the weakest strength that reached 90% on the "
            "calibration prompts while breaking a limit there, or the top of the search when none reached it):", ""]
    out.append(table(["method", "variant", "pair", "strength", "from", "success", "validity", "collateral",
                      "verdict", "misses", "control", "CLAP success"],
                     [[r["method"], r["variant"], f"{r['concept']}/{r['direction']}", r["strength"],
                       r["strength_from"], _ci(r, "success"), _ci(r, "validity"), _ci(r, "collateral"),
                       r["verdict"], r.get("misses", ""), r["control_success"], r["clap_success"]]
                      for r in data["rows"]]))
    return "\n".join(out)


def note_timing(data: dict) -> str:
    return (f"{data['n']} continuations per row:\n\n"
            + table(["method", "strength", "steered every k-th step", "bass", "validity", "clips with a violation"],
                    [[r["method"], r["strength"], r["every"], r["bass"], r["validity"],
                      ", ".join(f"{k} {v}" for k, v in r["clips_with_violation"].items()) or "none"]
                     for r in data["rows"]]))


RENDER: dict[str, tuple[str, Callable[[dict], str]]] = {
    "note_timing": ("When steering breaks notes: adding bass", note_timing),
    "steering_matrix_variants": ("Precision steering: the matrix's variants at calibrated strengths",
                                 steering_matrix_variants),
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
