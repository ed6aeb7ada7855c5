"""Significant digits chosen per quantity."""

import math

from musicinterp.views.numbers import column_decimals, decimals_for, fmt, heat_text, interval, percent


def test_decimals_give_the_largest_value_its_significant_digits():
    assert decimals_for([0.057, 0.0012]) == 4 and decimals_for([12.5, 3]) == 1 and decimals_for([1234.0]) == 0
    assert decimals_for([]) == 0 and decimals_for([0.0, math.nan]) == 0 and decimals_for([1e-12]) == 6


def test_fmt_never_prints_float_noise():
    assert fmt(0.057000000029802322) == "0.0570" and fmt(0.057000000029802322, 2) == "0.06"
    assert fmt(-0.0001, 2) == "0.00" and fmt(None) == "" and fmt(math.nan) == "" and fmt(7) == "7"
    assert fmt(True) == "True" and fmt("x") == "x" and fmt(math.inf) == "inf"


def test_columns_by_quantity():
    assert column_decimals("success_lo", [0.5, 0.91]) == 2
    assert column_decimals("nll_increase", [0.0123, 0.2]) == 3
    assert column_decimals("strength", [25.0, 60.0]) == 0 and column_decimals("method", ["a"]) is None
    assert column_decimals("n", [1, 2]) is None


def test_heat_text_shares_decimals_and_helpers():
    assert heat_text([[0.057000000029802322, -0.5], [None, 0.0]]) == [["0.06", "-0.50"], ["", "0.00"]]
    assert percent(0.8125) == "81%" and interval(0.5, 0.91) == "[0.50, 0.91]" and interval(None, 1) == ""
