import numpy as np
import pandas as pd
import pytest

from musicinterp.report import ReportError
from musicinterp.report.tables import format_cell, is_table, table_html, to_table


def test_dataframe_and_rows_agree():
    rows = [{"a": 1, "b": 0.5}, {"a": 2, "b": None}]
    assert to_table(rows) == to_table(pd.DataFrame(rows).astype({"a": "int64"}))


def test_values_are_plain_json():
    t = to_table([{"x": np.float64(np.inf), "y": np.int32(3), "z": pd.Timestamp("2024-01-01"), "w": np.bool_(True)}])
    assert t.rows == ((None, 3, "2024-01-01 00:00:00", True),)
    assert [type(v) for v in t.rows[0]] == [type(None), int, str, bool]


def test_nested_cell_is_named():
    with pytest.raises(ReportError, match="row 1, column 'b'"):
        to_table([{"b": 1}, {"b": [1, 2]}])


def test_is_table():
    assert is_table([{"a": 1}]) and is_table(pd.DataFrame({"a": [1]}))
    assert not is_table([]) and not is_table([{"a": 1}, 2]) and not is_table("a")


def test_html_has_one_row_per_record_and_numeric_cells():
    html = table_html(to_table([{"m": "iti", "s": 0.123456}, {"m": "<b>", "s": 2}]), "t")
    assert html.count('<tr data-row="') == 2
    assert "<td class=\"num\">0.123</td>" in html and "&lt;b&gt;" in html and 'data-json="t-data"' in html
    assert format_cell(None) == "" and format_cell(True) == "True" and format_cell(1e-7) == "1e-07"


def test_each_column_gets_its_own_decimals():
    rows = [{"method": "a", "success": 0.8125, "nll_increase": 0.057000000029802322, "strength": 25.0},
            {"method": "b", "success": 1.0, "nll_increase": 1.234567, "strength": 7.5}]
    html = table_html(to_table(rows), "t")
    cells = [c.split("</td>")[0] for c in html.split('class="num">')[1:]]
    assert cells == ["0.81", "0.06", "25.0", "1.00", "1.23", "7.5"]  # one quantity, one number of decimals


def test_wide_tables_fold_the_columns_past_the_key_ones():
    row = {f"c{i}": float(i) / 3 for i in range(14)}
    html = table_html(to_table([row, row]), "t", shown=5)
    assert html.count("<th data-col=") == 5 and '<th class="more">other columns</th>' in html
    assert html.count("<summary>9 more</summary>") == 2 and "<dt>c13</dt><dd>4.33</dd>" in html
    assert "<summary>" not in table_html(to_table([row]), "t", shown=13)  # one extra column is not folded
