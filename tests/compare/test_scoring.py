"""with_intervals: a row's intervals and verdict from each prompt's outcomes, against hand-made examples."""

import numpy as np
import pytest

from musicinterp.compare.intervals import Limits, min_decided
from musicinterp.compare.scoring import Examples, floor_figures, with_intervals


def _examples(success, collateral, validity=None):
    return Examples(np.asarray(success, float), {k: np.asarray(v, float) for k, v in collateral.items()},
                    None if validity is None else np.asarray(validity, float))


def test_an_unchanged_setting_has_zero_collateral_and_no_gain():
    base = _examples([0] * 20, {"rate_bass": [1, 0] * 10}, [1] * 20)
    row = with_intervals({"collateral": 0.0}, base, base, Limits())
    assert (row["collateral_lo"], row["collateral_hi"]) == (0.0, 0.0)
    assert (row["success_gain"], row["success_gain_lo"], row["success_gain_hi"]) == (0.0, 0.0, 0.0)
    assert row["verdict"] == "fail"  # success 0 of 20: its interval lies wholly below 0.9


def test_a_clean_success_on_many_prompts_passes_and_on_few_is_undecided():
    n = 128
    base = _examples([0] * n, {"rate_bass": [1, 0] * (n // 2)}, [1] * n)
    steered = _examples([1] * n, {"rate_bass": [1, 0] * (n // 2)}, [1] * n)
    row = with_intervals({"collateral": 0.0, "success": 1.0, "validity": 1.0}, steered, base, Limits())
    assert row["success_lo"] > 0.9 and row["validity_lo"] > 0.95 and row["verdict"] == "pass"
    few = _examples([1] * 16, {"rate_bass": [1, 0] * 8}, [1] * 16)
    few_base = _examples([0] * 16, {"rate_bass": [1, 0] * 8}, [1] * 16)
    undecided = with_intervals({"collateral": 0.0, "success": 1.0, "validity": 1.0}, few, few_base, Limits())
    assert undecided["verdict"] == "undecided"
    # 16 of 16 clear 90% success and 95% validity only from 35 and 73 prompts (Wilson low ends n / (n + z^2))
    assert undecided["n_to_decide"] == 73
    assert "n_to_decide" not in row


def test_collateral_interval_covers_the_observed_move():
    n = 64
    base = _examples([0] * n, {"rate_bass": [0] * n}, None)
    moved = [1] * 16 + [0] * (n - 16)  # bass appeared in a quarter of the prompts
    row = with_intervals({"collateral": 0.25}, _examples([1] * n, {"rate_bass": moved}), base, Limits())
    assert row["collateral_lo"] < 0.25 < row["collateral_hi"] and row["collateral_lo"] > 0.10
    assert row["verdict"] == "fail"  # the whole interval is above the 0.10 limit
    figures = floor_figures(row, n)
    assert figures["n_for_halfwidth_5pt"] == pytest.approx(
        n * ((row["collateral_hi"] - row["collateral_lo"]) / 2 / 0.05) ** 2, abs=1)


def _mode_like(decided: int, n: int, rate: float) -> list[float]:
    """A judge deciding ``decided`` of ``n`` prompts (the rest NaN), present in ``rate`` of those."""
    yes = int(round(rate * decided))
    return [1.0] * yes + [0.0] * (decided - yes) + [np.nan] * (n - decided)


def test_a_judge_deciding_on_a_handful_of_prompts_is_unmeasured_not_collateral():
    """Removing bass leaves the mode judge (read from the bass's roots) 3 decided prompts of 256: their rate is
    noise, so it is reported as unmeasured and the collateral comes from the judges that can read the clips."""
    n = 256
    base = _examples([0] * n, {"rate_mode": _mode_like(n, n, 0.5), "rate_drums": [1, 0] * (n // 2)}, [1] * n)
    steered = _examples([1] * n, {"rate_mode": _mode_like(3, n, 1.0), "rate_drums": [1, 0] * (n // 2)}, [1] * n)
    row = with_intervals({"collateral": 0.5, "collateral_by_judge": {"rate_mode": 0.5, "rate_drums": 0.0}},
                         steered, base, Limits())
    assert row["collateral_unmeasured"] == {"rate_mode": [3, n]}
    assert row["collateral"] == 0.0 and row["collateral_by_judge"] == {"rate_drums": 0.0}
    assert row["collateral_hi"] == 0.0 and row["verdict"] == "pass"


def test_a_judge_deciding_on_enough_prompts_still_counts():
    n = 256
    base = _examples([0] * n, {"rate_mode": _mode_like(n, n, 0.5)}, [1] * n)
    steered = _examples([1] * n, {"rate_mode": _mode_like(64, n, 1.0)}, [1] * n)
    row = with_intervals({"collateral": 0.5, "collateral_by_judge": {"rate_mode": 0.5}}, steered, base, Limits())
    assert "collateral_unmeasured" not in row and row["collateral"] == 0.5
    assert row["collateral_lo"] > 0.10 and row["verdict"] == "fail"


def test_min_decided_is_a_share_of_the_prompts_with_a_floor():
    assert (min_decided(4), min_decided(16), min_decided(64), min_decided(256)) == (2, 8, 8, 26)
