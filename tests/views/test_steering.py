"""Steering views: sweep lines, the monitor trace and the comparison tables hold the rows given."""

import pytest
import torch

from musicinterp.steering.monitor import MonitorTrace
from musicinterp.views.steering import (
    comparison_table,
    markdown_table,
    monitor_trace_figure,
    success_vs_fidelity,
)


def _row(task, method, strength, success, nll, validity=1.0, collateral=0.0):
    return {"task": task, "method": method, "strength": strength, "success": success, "nll_increase": nll,
            "validity": validity, "collateral": collateral}


ROWS = [_row("continuation", "iti", 4.0, 0.75, 0.3), _row("continuation", "iti", 1.0, 0.25, 0.1),
        _row("continuation", "smitin", 2.0, 0.5, 0.05, validity=0.5, collateral=0.125),
        _row("text", "iti", 1.0, 1.0, 0.2)]


def test_success_vs_fidelity_one_line_per_method_in_strength_order():
    fig = success_vs_fidelity(ROWS, task="continuation")
    assert [t.name for t in fig.data] == ["iti", "smitin"]
    iti, smitin = fig.data
    assert list(iti.x) == [0.1, 0.3] and list(iti.y) == [0.25, 0.75]  # strength 1 then 4
    assert [list(c) for c in iti.customdata] == [[1.0, 1.0, 0.0], [4.0, 1.0, 0.0]]
    assert list(smitin.x) == [0.05] and list(smitin.y) == [0.5]
    assert [list(c) for c in smitin.customdata] == [[2.0, 0.5, 0.125]]
    assert fig.layout.title.text == "success vs fidelity — continuation"
    assert fig.layout.xaxis.title.text.startswith("NLL increase")
    assert fig.layout.yaxis.title.text == "success (detector positive)"


def test_success_vs_fidelity_error_bars_and_controls():
    rows = [{**_row("continuation", "iti", 1.0, 0.5, 0.1), "success_lo": 0.25, "success_hi": 0.75},
            {**_row("continuation", "iti~random0", 1.0, 0.125, 0.05), "success_lo": 0.0, "success_hi": 0.5}]
    iti, control = success_vs_fidelity(rows, "continuation").data
    assert list(iti.error_y.array) == [0.25] and list(iti.error_y.arrayminus) == [0.25]
    assert control.line.dash == "dot" and list(control.error_y.array) == [0.375]
    assert success_vs_fidelity(ROWS).data[0].error_y.array is None  # rows without intervals: no bars


def test_success_vs_fidelity_without_a_task_takes_every_row():
    fig = success_vs_fidelity(ROWS)
    assert list(fig.data[0].x) == [0.1, 0.2, 0.3]  # iti: strengths 1 (continuation), 1 (text), 4
    assert fig.layout.title.text == "success vs fidelity"


def test_monitor_trace_readings_edited_steps_and_threshold():
    trace = MonitorTrace(steps=[0, 1, 2, 3],
                         readings=[torch.tensor([0.1, 0.9]), torch.tensor([0.2, 0.8]), torch.tensor([0.4, 0.7]),
                                   torch.tensor([0.7, 0.6])],
                         strengths=[torch.tensor([0.0, 0.0]), torch.tensor([2.0, 0.0]), torch.tensor([1.5, 1.0]),
                                    torch.tensor([0.0, 0.0])],
                         tau=0.6, warmup=1)
    fig = monitor_trace_figure(trace, prompt=0)
    reading, edited, strength = fig.data
    assert list(reading.x) == [0, 1, 2, 3] and list(reading.y) == pytest.approx([0.1, 0.2, 0.4, 0.7])
    assert list(edited.x) == [1, 2] and list(edited.y) == pytest.approx([0.2, 0.4])
    assert list(strength.y) == [0.0, 2.0, 1.5, 0.0] and strength.yaxis == "y2"
    hline = [s for s in fig.layout.shapes if s.y0 == s.y1]
    assert [s.y0 for s in hline] == [pytest.approx(0.6)]
    warm = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(s.x0, s.x1) for s in warm] == [(0, 1)]
    assert fig.layout.xaxis.title.text == "generation step" and fig.layout.yaxis.title.text == "monitor reading"
    stops = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]
    assert [s.x0 for s in stops] == [3]  # the first step after warm-up at or above tau
    assert any(a.text == "stops at step 3" for a in fig.layout.annotations)
    second = monitor_trace_figure(trace, prompt=1)
    assert list(second.data[1].x) == [2] and list(second.data[1].y) == pytest.approx([0.7])
    never = MonitorTrace(steps=[0, 1], readings=[torch.tensor([0.1]), torch.tensor([0.2])],
                         strengths=[torch.tensor([1.0]), torch.tensor([1.0])], tau=0.6)
    assert not [s for s in monitor_trace_figure(never).layout.shapes if s.type == "line" and s.x0 == s.x1]


def test_comparison_table_columns_present_in_the_rows_and_formatted_cells():
    rows = [_row("text", "iti", 1.0, 0.5, 0.25), {"task": "text", "method": "sae", "success": None}]
    fig = comparison_table(rows)
    (table,) = fig.data
    cols = ["task", "method", "strength", "success", "collateral", "validity", "nll_increase"]
    assert list(table.header.values) == cols
    cells = [list(c) for c in table.cells.values]
    assert cells[cols.index("success")] == ["0.500", ""]
    assert cells[cols.index("method")] == ["iti", "sae"]
    assert cells[cols.index("strength")] == ["1.000", ""]


def test_markdown_table():
    rows = [{"method": "iti", "success": 0.5, "nll_increase": 0.004, "key_kept": None},
            {"method": "sae", "success": 0.0, "nll_increase": 1.25, "key_kept": True}]
    assert markdown_table(rows) == ("| method | success | nll_increase | key_kept |\n"
                                    "|---|---|---|---|\n"
                                    "| iti | 0.50 | 0.004 |  |\n"
                                    "| sae | 0.00 | 1.25 | True |")


def test_markdown_table_shows_intervals_where_rows_carry_them():
    rows = [{"method": "iti", "success": 0.94, "success_lo": 0.85, "success_hi": 0.98, "verdict": "undecided"},
            {"method": "sae", "success": 0.5, "verdict": "fail"}]
    assert markdown_table(rows) == ("| method | success (95%) | verdict |\n"
                                    "|---|---|---|\n"
                                    "| iti | 0.94 [0.85, 0.98] | undecided |\n"
                                    "| sae | 0.50 | fail |")
