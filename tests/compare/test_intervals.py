"""Wilson intervals, paired bootstrap intervals and verdicts against hand-computed values."""

import math

import numpy as np
import pytest

from musicinterp.compare.intervals import (
    Limits,
    max_move,
    n_for_halfwidth,
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
