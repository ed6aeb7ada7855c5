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
    assert '<td class="num">0.1235</td>' in html and "&lt;b&gt;" in html and 'data-json="t-data"' in html
    assert format_cell(None) == "" and format_cell(True) == "True" and format_cell(1e-7) == "1e-07"
