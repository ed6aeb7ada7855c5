"""The demo report's words carry this run's numbers (a made-up run here)."""

from musicinterp.demo.narrative import ORDER, TITLES, best_row, describe_row, intros, summary

ROW = {"method": "smitin", "strength": 25.0, "success": 0.9375, "success_lo": 0.717, "success_hi": 0.989,
       "collateral": 0.0625, "collateral_lo": 0.011, "collateral_hi": 0.28, "verdict": "undecided",
       "within_limits": True, "nll_increase": 0.1}
FACTS = {
    "target": "drums", "direction": "add",
    "probes": {"best": {"drums": ((2, 5), 0.97), "bass": ((0, 5), 1.0)}, "resid_best": (3, 0.99)},
    "ablation": {"patch_top": ((1, 7), 0.42), "n": 8, "skip_worst": (0, "drums", 1.5)},
    "sae": {"fve": 0.95, "l0": 16.0, "ce": 0.9, "feature": 17, "auc": 0.98, "dict_size": 256, "dead": 3},
    "comparison": {"n": 16, "best": {"continuation": [ROW, {**ROW, "method": "iti", "success": 1.0,
                                                            "within_limits": False}]},
                   "unsteered": {"continuation": {"success": 0.0625}},
                   "controls": {"continuation": {"smitin": {"success": 0.125, "beaten": True}}},
                   "verdicts": {"pass": 2, "fail": 10, "undecided": 5},
                   "audio_check": {"continuation": {"smitin": {"detector": 0.9375, "clap": 0.875, "fad_clap": 0.031},
                                                    "iti": {"detector": 1.0, "clap": 0.5, "fad_clap": 0.42}}},
                   "clap_agreement": (1, 2)},
    "monitors": {"smitin": {"tau": 0.12, "calibrated": True, "note": "", "stopped": 3, "n": 4, "stop_step": 40,
                            "why": "never"}},
    "listen": {"present": [{"unsteered": False, "smitin": True}] * 4},
}


def test_summary_names_concept_best_method_with_interval_and_read_vs_used():
    text = summary(FACTS)
    assert "**adding drums**" in text and "6% of continuations" in text
    assert "**smitin** at strength 25: success 94% [0.72, 0.99], collateral 0.06 [0.01, 0.28]" in text
    assert "head L2H5 (probe accuracy 0.97)" in text and "head L1H7 (patching it moves the drums logit difference by +42%" in text
    assert "tau 0.12" in text and "3 of 4" in text


def test_best_row_is_within_the_limits_and_says_when_none_is():
    assert best_row(FACTS)["method"] == "smitin"  # iti is more successful but outside the limits
    none = {**FACTS, "comparison": {**FACTS["comparison"], "best": {"continuation": [
        {**ROW, "within_limits": False}]}}}
    assert best_row(none) is None and "none: no method" in summary(none)
    assert describe_row({"method": "x", "strength": 1.0, "success": 0.5, "collateral": 0.0}) == \
        "**x** at strength 1: success 50%, collateral 0.00"


def test_every_section_has_words_and_an_intro():
    assert ORDER[0] == "summary" and all("_" not in TITLES[s] for s in ORDER)
    assert set(intros(FACTS)) == set(ORDER) - {"summary"}
