"""Controls in the comparison, and dose-response slopes, against hand-made rows and prompts."""

import numpy as np
import pytest
import torch

from musicinterp.compare.controls import attach_controls, dose_response, dose_table
from musicinterp.compare.run import Comparison, Task, compare
from musicinterp.compare.scoring import Examples
from musicinterp.steering import ITIConfig, ITISteerer


def _row(method, success, lo, hi, collateral=0.0, verdict="pass"):
    return {"task": "t", "method": method, "strength": 1.0, "success": success, "success_lo": lo, "nll_increase": 0.0,
            "success_hi": hi, "collateral": collateral, "verdict": verdict}


def test_a_pass_that_does_not_beat_its_control_is_undecided():
    comp = Comparison(target="drums", add=True)
    comp.rows = [_row("iti", 0.95, 0.90, 0.99), _row("iti~random0", 0.2, 0.1, 0.35, collateral=0.04),
                 _row("iti~random1", 0.3, 0.2, 0.45, collateral=0.06),
                 _row("sae", 0.95, 0.90, 0.99), _row("sae~random0", 0.93, 0.85, 0.98)]
    attach_controls(comp)
    iti, sae = comp.rows[0], comp.rows[3]
    assert iti["beats_control"] and iti["verdict"] == "pass" and iti["control_success"] == pytest.approx(0.25)
    assert iti["collateral_beyond_control"] == pytest.approx(-0.05)
    assert not sae["beats_control"] and sae["verdict"] == "undecided"
    assert [r["method"] for r in comp.best("t")] == ["iti", "sae"]  # controls are rows, not cells


def test_dose_response_slope_is_the_least_squares_slope_of_the_rates():
    comp = Comparison(target="drums", add=True)
    n = 40
    for strength, k in ((0.0, 0), (1.0, 20), (2.0, 40)):  # success 0, 0.5, 1
        comp.examples[("t", "iti", strength)] = Examples(np.array([1.0] * k + [0.0] * (n - k)), {}, None)
    out = dose_response(comp, "t", "iti")
    assert out["slope"] == pytest.approx(0.5) and out["slope_lo"] <= 0.5 <= out["slope_hi"]
    # logit scale with the half-count correction: (log(40.5/0.5) - log(0.5/40.5)) / 2 per unit
    assert out["logit_slope"] == pytest.approx(np.log(81), rel=1e-9)
    assert list(dose_table(comp, "t")["method"]) == ["iti"]


def test_compare_runs_controls_in_the_same_batch(tiny_store_for_compare):
    import musicinterp.organism as O

    model, store = tiny_store_for_compare
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3))
    prompt = torch.randint(0, 2048, (3, 4, 6), generator=torch.Generator().manual_seed(1))
    task = Task("continuation", {"prompt_codes": prompt, "n_frames": 4, "do_sample": False}, prompt_frames=6)
    comp = compare(model, {"iti": iti}, [task], O.organism_judges(), {"iti": [0.0, 50.0]}, progress=False,
                   continuity=[], controls=2, noise_floor=False)
    methods = [r["method"] for r in comp.rows]
    assert methods.count("iti") == 2 and methods.count("iti~random0") == 2 and methods.count("iti~random1") == 2
    zero = [r for r in comp.rows if r["strength"] == 0.0]
    assert all(r["success"] == comp.unsteered["continuation"]["success"] for r in zero)  # strength 0: unchanged
    own = [r for r in comp.rows if r["method"] == "iti"]
    assert all("control_success" in r and "beats_control" in r for r in own)
