"""docs/results.md sections of the steering benchmarks: the matrix, its variants and ledger, timing and loudness."""

from __future__ import annotations

import numpy as np
from _page_format import ci, fmt, join_and, rate, table


def steering_matrix(data: dict) -> str:
    head = [f"n = {data['n']} prompts per setting; task {data['task']}: {data['cells_pass']} cells pass, "
            f"{data['cells_fail']} fail, {data['cells_undecided']} undecided of {data['cells_total']} "
            "(95% intervals; pass only where success, validity and collateral each clear their limit and "
            "success beats the random-direction control)", ""]
    rows = [[m, c, d, cell.get("strength"), ci(cell, "success"), ci(cell, "validity"), ci(cell, "collateral"),
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


def _misses(row: dict) -> str:
    """The bars a cell misses; a collateral miss names the judge that moved most (runs that recorded it)."""
    misses = row.get("misses", "")
    if "collateral" in misses and row.get("most_moved"):
        misses += f" (most moved: {row['most_moved'].removeprefix('rate_')})"
    return misses


VARIANT_WORDS = {"plain": "plain", "keep": "keep-set", "bounded": "bounded edit", "both": "both",
                 "onset": "onset-aligned start", "settle": "settled start (from the first grid step a bar in)",
                 "keep-loudness": "keep-set of the lead's loudness alone"}


def steering_matrix_variants(data: dict) -> str:
    cal, clap = data["calibration_check"], data["clap_agreement"]
    onset = sorted({f"{r['concept']}/{r['direction']}" for r in data["rows"] if r["variant"] == "onset"})
    task = data.get("task", "continuation")
    what = "continuations" if task == "continuation" else f"generations of the {task} task"
    how = (f"the strength finder used {data['cal_n']} other prompts" if data.get("cal_n")
           else "each method at the strength the command gives it")
    variants = [v for v in VARIANT_WORDS if v in {r["variant"] for r in data["rows"]} and v != "onset"]
    if variants == ["plain"] and not onset:
        ran = "Each method as published; "
    else:
        ran = ("Each method in the variants " + join_and([VARIANT_WORDS[v] for v in variants])
               + (", and the onset-aligned start (on " + ", ".join(onset) + ")" if onset else "")
               + (", each at its calibrated strength; " if data.get("cal_n") else "; "))
    cannot = (f"; at n = {data['n']} even a cell with every clip valid has a validity interval from "
              f"{data['validity_lo_all_valid']}, below the 0.95 limit, so no cell can pass at this n"
              if (data["validity_lo_all_valid"] or 0) < 0.95 else "")
    clauses = [  # each only where the run has rows it counts
        (f"; {data['passing_beat_control']} of {data['passing']} passing rows beat their random-direction control "
         "(control success <= 10%)", data["passing"]),
        (f"; the finder's strength, where calibration reached 90%, reached 85% on the evaluation prompts in "
         f"{cal['reach_0.85']} of {cal['cells']} rows", cal["cells"]),
        (f"; CLAP success within 10 points of the detector's in {clap['within_10pt']} of {clap['cells']} rows",
         clap["cells"])]
    out = [f"n = {data['n']} {what} per cell ({how}); pairs run: {', '.join(data['pairs'])}; methods: "
           f"{', '.join(data['methods'])}. {ran}{data['cells_pass_any_variant']} of "
           f"{data['cells_total_any_variant']} method cells pass in some variant "
           f"({data['cells_point_pass_any_variant']} are inside every limit at their point values{cannot})"
           + "".join(text for text, count in clauses if count) + ".", ""]
    out.append(table(["variant", "pass", "fail", "undecided", "cells", "inside the limits at point values"],
                     [[v, c["pass"], c["fail"], c["undecided"], c["cells"], c["point_pass"]]
                      for v, c in data["by_variant"].items()]))
    effects = (("keep", "keep", "the keep-set variant beside it (target: collateral at least halved at equal success)"),
               ("settle", "settled", "the same edit started a bar in (settled start) beside it, at the same strength"),
               ("keep-loudness", "keep-loudness", "the keep-set of the lead's loudness alone beside it (target: "
                "collateral at least halved at equal success)"))
    for variant, word, what in effects:
        if data.get(f"{variant}_effect"):
            out += ["", f"Where the plain method's collateral is over 10 points: {what}:", ""]
            out.append(table(["method", "pair", "plain success", "plain collateral", f"{word} success",
                              f"{word} collateral", "halved"],
                             [[k["method"], k["pair"], k["plain_success"], k["plain_collateral"],
                               k[f"{variant}_success"], k[f"{variant}_collateral"], k["halved_at_equal_success"]]
                              for k in data[f"{variant}_effect"]]))
    out += ["", "Every cell (strength from: the finder's choice, the weakest strength that reached 90% on the "
            "calibration prompts while breaking a limit there, or the top of the search when none reached it):", ""]
    out.append(table(["method", "variant", "pair", "strength", "from", "success", "validity", "collateral",
                      "verdict", "misses", "control", "CLAP success"],
                     [[r["method"], r["variant"], f"{r['concept']}/{r['direction']}", r["strength"],
                       r["strength_from"], ci(r, "success"), ci(r, "validity"), ci(r, "collateral"),
                       r["verdict"], _misses(r), r["control_success"], r["clap_success"]]
                      for r in data["rows"]]))
    return "\n".join(out) + monitor(data)


def matrix_ledger(data: dict) -> str:
    """Per task: how many cells pass, wait for more prompts or fail, by which mechanism; then every cell."""
    from matrix_ledger import markdown, ordered

    summary, words = data["summary"], data["mechanisms"]
    rows = [[task, f"{s['pass']} of {s['cells']}", s["undecided"], s["fail"],
             "; ".join(f"{k} {v}" for k, v in s["mechanisms"].items())] for task, s in summary.items()]
    keys = table(["mechanism", "what it means"], [[k, v] for k, v in words.items()])
    cells = "\n\n".join(f"### {task}\n\n{markdown(data['cells'][task])}" for task in ordered(data["cells"]))
    by_n = data.get("collateral_by_n", [])
    fell = sum(x["collateral_large"] < x["collateral_small"] for x in by_n)
    shrink = (f"\n\nThe same setting at two sizes (the larger run's first prompts the same): the collateral, the "
              f"largest of several judges' moves, fell in {fell} of {len(by_n)} (median change "
              f"{np.median([x['collateral_large'] - x['collateral_small'] for x in by_n]):+.3f}):\n\n"
              + table(["task", "setting", "n", "collateral", "larger n", "collateral there"],
                      [[x["task"], x["cell"], x["n_small"], x["collateral_small"], x["n_large"], x["collateral_large"]]
                       for x in by_n])) if by_n else ""
    return (table(["task", "pass", "undecided", "fail", "cells outside a limit, by the bar they miss most and why"], rows)
            + f"\n\nRead from: {', '.join(data['sources'])}.\n\n{keys}{shrink}\n\n{cells}")


def dynamics_coupling(data: dict) -> str:
    """Per method: the lead judged loud unsteered and steered, the velocities, and how they move together."""
    def pct(r: list) -> str:
        return f"{r[0]:.0%} [{r[1]:.0%}, {r[2]:.0%}]"

    rows = [[m, f"{d['strength']:g}", pct(d["loud_unsteered"]), pct(d["loud_steered"]),
             f"{d['lead_velocity_unsteered']:.2f} -> {d['lead_velocity_steered']:.2f}",
             f"{d['drum_velocity_steered']:.2f} (the prompt's loudness gives {d['drum_velocity_expected']:.2f})",
             d["corr_lead_change_drum_gap"], d["corr_steered_lead_drums"],
             f"{d['judge_flipped']} of {d['clips']} (drums {d['drum_gap_flipped']:.2f} over, against "
             f"{d['drum_gap_kept']:.2f} in the others)"] for m, d in data["methods"].items()]
    return (f"{data['n']} continuations of clips without drums ({data['prompt_frames']} + {data['new_frames']} "
            "frames), unsteered and steered with the same sampling keys; velocities are means over onsets (lead "
            "0..2, drums 0..3):\n\n"
            + table(["method", "strength", "lead loud, unsteered", "lead loud, steered", "lead velocity",
                     "added drums' velocity", "corr(lead change, drums over the prompt's level)",
                     "corr(steered lead, drums)", "clips the loudness judge flips"], rows))


def monitor(data: dict) -> str:
    mon = data.get("smitin_monitor")
    if not mon or not mon.get("per_pair"):  # a run whose tasks read no monitor (text tasks: no prompt)
        return ""
    head = (f"The calibrated SMITIN monitor (s = 2, tau from judged generations): where the detector found the goal "
            f"reached, the monitor crossed tau and set the strength to zero in {mon['stopped']} of "
            f"{mon['goal_reached']} continuations"
            + (f" ({rate(mon['stopped'] / mon['goal_reached'], mon['goal_reached'])})" if mon["goal_reached"] else "")
            + ". Per pair:")
    rows = [[p, c["goal_reached"], c["stopped"], c["tau"], c["final_reading"],
             c["calibration_bal_acc"] if c["calibration_error"] is None else c["calibration_error"]]
            for p, c in mon["per_pair"].items()]
    return "\n".join(["", "", head, "", table(["pair", "goal reached", "monitor stopped", "tau", "mean final reading",
                                           "calibration balanced accuracy"], rows)])


def note_timing(data: dict) -> str:
    n = data["n"]
    onset = data.get("onset_step")

    def first_step(r: dict) -> str:
        if "ramp" in r:
            return f"0, ramped over {r['ramp']} steps"
        if "start" not in r:
            return "0"
        if "grid" in r:
            return f"{r['start']} (onset step; {r['grid']})"
        off = r["from_onset_step"]
        return f"{r['start']} (onset step{f' {off:+d}' if off else ''})"

    return (f"{n} continuations per row"
            + (f"; the onset step for 100-frame prompts is {onset}" if onset is not None else "") + ":\n\n"
            + table(["method", "strength", "first steered step", "steered every k-th step", "bass", "validity",
                     "clips with a violation"],
                    [[r["method"], r["strength"], first_step(r), r["every"], rate(r["bass"], n), rate(r["validity"], n),
                      ", ".join(f"{k} {v}" for k, v in r["clips_with_violation"].items()) or "none"]
                     for r in data["rows"]]))


def precision_organism(data: dict) -> str:
    n = data["n"]
    settings = [k for k, v in data.items() if isinstance(v, dict) and "validity" in v]
    out = [f"Adding drums with ITI at alpha {fmt(data['alpha'])}, {n} continuations of {data['frames']} frames per "
           "row; unsteered rates: " + ", ".join(f"{c} {rate(v, n)}" for c, v in data["unsteered"].items()) + ".", ""]
    out.append(table(["setting", "drums", "validity", "collateral", "clips with a broken sustain"],
                     [[k, rate(data[k]["drums"], n), rate(data[k]["validity"], n), data[k]["collateral"],
                       data[k]["broken_sustains"]] for k in settings]))
    if "keep_cos_max_before" in data:
        out += ["", f"Largest cosine between the steering directions and the kept ones: "
                f"{fmt(data['keep_cos_max_before'])} before projection, {fmt(data['keep_cos_max_after'])} after."]
    cal = data.get("calibrated")
    if isinstance(cal, dict):
        out += ["", f"Strength finder: chosen {fmt(cal.get('chosen'))} after {cal.get('rounds')} rounds; "
                f"{cal.get('reason', '')}"]
    return "\n".join(out)
