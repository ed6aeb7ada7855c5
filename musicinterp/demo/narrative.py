"""The demo report's words: section titles, the questions each section answers, captions with this run's numbers.

Everything here is a pure function of ``facts``, the plain dict the demo fills in as it
runs (see :func:`musicinterp.demo.run.run_comparison_job`), so every number in the page
comes from the run that wrote it.
"""

from __future__ import annotations

from typing import Any

from ..views.numbers import interval

TITLES = {
    "summary": "Summary", "probes": "Where is the concept read? Probes",
    "ablation": "Where is it used? Patching and ablation", "sae": "A sparse autoencoder on the last layer",
    "sae_features": "The SAE feature that tracks the concept", "comparison": "Steering methods compared",
    "monitors": "SMITIN's self-monitor: when does it stop?", "listen": "Listen and look: continuations",
}
ORDER = list(TITLES)


def best_row(facts: dict[str, Any], task: str = "continuation") -> dict[str, Any] | None:
    """The best method's setting on ``task`` within the limits: passing verdicts first, then success."""
    rows = [r for r in facts["comparison"]["best"].get(task, []) if r.get("within_limits")]
    rank = {"pass": 2, "undecided": 1, "fail": 0}
    return max(rows, key=lambda r: (rank.get(r.get("verdict"), 1), r["success"]), default=None)


def describe_row(r: dict[str, Any]) -> str:
    """``smitin at strength 25: success 94% [0.72, 0.99], collateral 0.05 [0.01, 0.12], verdict pass``."""
    text = f"**{r['method']}** at strength {r['strength']:g}: success {r['success']:.0%}"
    text += f" {interval(r.get('success_lo'), r.get('success_hi'))}".rstrip()
    text += f", collateral {r['collateral']:.2f} {interval(r.get('collateral_lo'), r.get('collateral_hi'))}".rstrip()
    return text + (f", verdict **{r['verdict']}**" if r.get("verdict") else "")


def _read_used(facts: dict[str, Any]) -> tuple[str, str]:
    (layer, head), acc = facts["probes"]["best"][facts["target"]]
    (pl, ph), score = facts["ablation"]["patch_top"]
    return (f"head L{layer}H{head} (probe accuracy {acc:.2f})",
            f"head L{pl}H{ph} (patching it moves the {facts['target']} logit difference by {score:+.0%} of the "
            f"clean - corrupt gap)")


def summary(facts: dict[str, Any]) -> str:
    """The page's opening: the concept, the best method within the limits with its interval, read vs used."""
    t, verb = facts["target"], "adding" if facts["direction"] == "add" else "removing"
    read, used = _read_used(facts)
    base = facts["comparison"]["unsteered"].get("continuation", {})
    best = best_row(facts)
    lines = [f"This run steers the model organism toward **{verb} {t}** in 2 s continuations of 2 s prompts "
             f"({facts['comparison']['n']} prompts per setting, 95% intervals in brackets).", ""]
    lines.append(f"- **Concept**: {t}; unsteered, the detector finds it in {base.get('success', 0):.0%} of "
                 f"continuations.")
    lines.append("- **Best method within the limits**: " + (describe_row(best) if best else
                 "none: no method kept validity and collateral inside the limits at any strength tried."))
    lines.append(f"- **Where it is read**: {read}. **Where it is used**: {used}.")
    mon = facts.get("monitors", {}).get("smitin")
    if mon:
        lines.append(f"- **Self-monitor**: calibrated tau {mon['tau']:.2f}; it stopped steering in "
                     f"{mon['stopped']} of {mon['n']} listening continuations.")
    return "\n".join(lines)


def intros(facts: dict[str, Any]) -> dict[str, str]:
    """Two or three sentences per section: the question it answers."""
    t = facts["target"]
    return {
        "probes": "Which attention heads carry a linear read-out of each planted concept? A logistic probe per "
                  "(layer, head) is trained on the mean of each clip's per-head outputs; high validation accuracy "
                  "means the concept can be *read* there, not that the model *uses* it there.",
        "ablation": f"Where does the model *use* {t}? Patching copies one head's output from a clip with {t} into "
                    f"the same clip without it and measures how much of the {t} logit difference comes back; "
                    f"skipping whole layers shows which codebooks each layer matters for.",
        "sae": "Can an unsupervised dictionary find the concepts? A TopK sparse autoencoder is trained on the last "
               "residual layer; these figures say how well it reconstructs and how its features spread.",
        "sae_features": f"The single SAE feature whose clip-pooled activation best separates clips with {t} from "
                        f"clips without: what it fires on, how selective it is, and what its top clips sound like.",
        "comparison": f"Which steering method adds {t} most reliably without moving anything else? Each method is "
                      f"swept over strengths on the same prompts and seeds; success, validity and collateral come "
                      f"with 95% intervals, and a random direction of the same size is run beside each method.",
        "monitors": "SMITIN steers only while its probe monitor reads the concept as absent. The monitor's "
                    "threshold tau is calibrated on held-out continuations (`calibrate_monitor`): the "
                    "steering should stop once the reading crosses tau.",
        "listen": "Four held-out prompts continued unsteered and by each method at its best setting, "
                  "seen as piano rolls (one row per codebook) and heard as audio.",
    }


def captions(facts: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Title and caption per result file (paths relative to the output folder)."""
    from .captions import figure_captions

    return figure_captions(facts)
