"""Wilson intervals, paired bootstrap intervals and verdicts against hand-computed values."""

import math

import numpy as np
import pytest

from musicinterp.compare.intervals import (
    Limits,
    max_move,
    n_for_halfwidth,
    n_to_clear,
    n_to_decide,
    paired_difference,
    resamples,
    verdict,
    wilson,
)


def test_wilson_matches_the_textbook_values():
    # 8 of 10: the Wilson score interval (z = 1.96) is [0.4902, 0.9433] (Newcombe 1998, table I)
    p, lo, hi = wilson(np.array([1] * 8 + [0] * 2))
    assert p == 0.8 and lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    # 0 of 10: [0, 0.2775]; all of 64 stays below 1 - 0.057
    assert wilson(np.zeros(10))[1:] == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(np.ones(64))[1] == pytest.approx(0.9434, abs=1e-4)


def test_wilson_leaves_undecided_examples_out():
    assert wilson(np.array([1, 1, np.nan, 0]))[:1] == (2 / 3,)
    assert all(math.isnan(x) for x in wilson(np.array([np.nan, np.nan])))


def test_paired_difference_of_identical_runs_is_exactly_zero():
    x = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=float)
    assert paired_difference(x, x, resamples(8)) == (0.0, 0.0, 0.0)


def test_paired_difference_interval_brackets_the_point_and_pairs_prompts():
    base = np.zeros(40)
    steered = np.zeros(40)
    steered[:30] = 1  # 30 of 40 prompts gained the concept
    point, lo, hi = paired_difference(steered, base, resamples(40, seed=3))
    assert point == 0.75 and lo < 0.75 < hi and 0.55 < lo and hi < 0.9


def test_max_move_is_the_largest_judge_change_and_skips_undecided_judges():
    steered = np.array([[1, 1, 0, 0], [np.nan, np.nan, np.nan, np.nan], [1, 0, 0, 0]], dtype=float)
    base = np.array([[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 0, 0]], dtype=float)
    assert max_move(steered, base)[0] == 0.5  # judge 0 moved 0.5; judge 1 decided nothing when steered


def test_verdicts_need_every_interval_clear_of_its_limit():
    limits = Limits(min_success=0.9, min_validity=0.95, max_collateral=0.10)
    ok = {"success_lo": 0.93, "success_hi": 1.0, "validity_lo": 0.96, "validity_hi": 1.0,
          "collateral_lo": 0.0, "collateral_hi": 0.08}
    assert verdict(ok, limits) == "pass"
    assert verdict({**ok, "collateral_lo": 0.12, "collateral_hi": 0.3}, limits) == "fail"
    assert verdict({**ok, "success_lo": 0.5, "success_hi": 0.85}, limits) == "fail"
    assert verdict({**ok, "collateral_hi": 0.15}, limits) == "undecided"  # straddles 0.10
    assert verdict({**ok, "success_lo": 0.85}, limits) == "undecided"
    no_grammar = {k: v for k, v in ok.items() if not k.startswith("validity")}
    assert verdict(no_grammar, limits) == "pass"


def test_n_for_halfwidth_scales_as_one_over_root_n():
    assert n_for_halfwidth(0.0, 0.2, 32) == 128  # half-width 0.10 at 32 -> 0.05 needs 4x the prompts
    assert n_for_halfwidth(0.0, 0.05, 32) == 32  # already narrower: no fewer prompts than measured


def test_n_to_clear_all_valid_needs_73_prompts_against_095():
    # every clip valid: the Wilson low end is n / (n + z^2), which reaches 0.95 at n = 73 (72.99)
    assert n_to_clear(1.0, 0.95) == 73
    assert wilson(np.ones(73))[1] >= 0.95 > wilson(np.ones(72))[1]


def test_n_to_clear_agrees_with_wilson_on_whole_counts():
    # 97 of every 100 valid: n_to_clear lies between the last hundred whose interval straddles 0.95 and the first
    # that clears it, read off wilson() on real 0/1 arrays
    hundreds = [k for k in range(1, 30) if wilson(np.array(([1] * 97 + [0] * 3) * k))[1] >= 0.95]
    assert hundreds, "0.97 should clear 0.95 within 2900 examples"
    n = n_to_clear(0.97, 0.95)
    assert (hundreds[0] - 1) * 100 < n <= hundreds[0] * 100
    # below the bar: the interval must lie wholly under it (60% success against 90%)
    m = n_to_clear(0.6, 0.9)
    assert wilson(np.array([1, 1, 1, 0, 0] * (m // 5 + 1)))[2] <= 0.9
    assert n_to_clear(0.95, 0.95) is None


def test_n_to_decide_takes_the_slowest_bar_and_refuses_wrong_side_points():
    limits = Limits(min_success=0.9, min_validity=0.95, max_collateral=0.10)
    row = {"n": 512, "success": 1.0, "validity": 0.961, "collateral": 0.04, "collateral_hi": 0.07}
    need = n_to_decide(row, limits)
    assert need == n_to_clear(0.961, 0.95) and need > 512  # validity decides; collateral already clear
    # collateral half-width 0.09 against a margin of 0.03: (0.09 / 0.03)^2 = 9 times the prompts
    wide = {**row, "validity": 1.0, "collateral": 0.07, "collateral_hi": 0.16}
    assert n_to_decide(wide, limits) == 9 * 512
    assert n_to_decide({**row, "validity": 0.94}, limits) is None
    assert n_to_decide({**row, "collateral": 0.12, "collateral_hi": 0.2}, limits) is None
