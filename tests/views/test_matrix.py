"""Matrix heatmap: success at the limits per cell, cells outside the limits uncoloured and marked "out"."""

import pandas as pd
import pytest

from musicinterp.compare.matrix import SteeringMatrix
from musicinterp.compare.run import Comparison
from musicinterp.views.matrix import heatmap_grid, matrix_heatmap


def _matrix() -> SteeringMatrix:
    def comp(target, add, rows):
        c = Comparison(target=target, add=add)
        c.unsteered = {t: {"task": t, "method": "unsteered", "success": 0.0} for t in ("continuation", "text")}
        c.rows = [{"nll_increase": 0.1, "validity": 1.0, **r} for r in rows]
        return c

    return SteeringMatrix(comparisons={
        ("drums", "add"): comp("drums", True, [
            {"task": "continuation", "method": "iti", "strength": 1.0, "success": 0.75, "collateral": 0.0},
            {"task": "continuation", "method": "sae", "strength": 1.0, "success": 0.5, "collateral": 0.4},
            {"task": "text", "method": "iti", "strength": 1.0, "success": 0.25, "collateral": 0.0},
            {"task": "text", "method": "sae", "strength": 1.0, "success": 1.0, "collateral": 0.0}]),
        ("bass", "remove"): comp("bass", False, [
            {"task": "continuation", "method": "iti", "strength": 2.0, "success": 1.0, "collateral": 0.05},
            {"task": "continuation", "method": "sae", "strength": 2.0, "success": 0.875, "collateral": 0.0},
            {"task": "text", "method": "iti", "strength": 1.0, "success": 0.5, "collateral": 0.0},
            {"task": "text", "method": "sae", "strength": 1.0, "success": 0.0, "collateral": 0.0}])})


def test_grid_holds_success_within_limits_and_marks_out_cells():
    grid = heatmap_grid(_matrix(), "continuation")
    assert grid["methods"] == ["iti", "sae"] and grid["columns"] == ["drums add", "bass remove"]
    assert grid["z"] == [[0.75, 1.0], [None, 0.875]]
    assert grid["text"] == [["0.75", "1.00"], ["out 0.50", "0.88"]]


def test_heatmap_from_matrix_or_frame_and_task_dropdown():
    m = _matrix()
    fig = matrix_heatmap(m)
    heat = fig.data[0]
    assert heat.type == "heatmap" and (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert [list(r) for r in heat.z] == [[0.75, 1.0], [None, 0.875]]
    assert list(heat.y) == ["iti", "sae"] and list(heat.x) == ["drums add", "bass remove"]
    same = matrix_heatmap(m.to_pandas())
    assert [list(r) for r in same.data[0].z] == [list(r) for r in heat.z]
    both = matrix_heatmap(m, task=None)
    assert len(both.data) == 2 and [t.visible for t in both.data] == [True, False]
    assert [list(r) for r in both.data[1].z] == [[0.25, 0.5], [1.0, 0.0]]
    buttons = both.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["continuation", "text"] and buttons[1].args[0]["visible"] == [False, True]


def test_heatmap_refuses_unknown_task_and_bad_input():
    with pytest.raises(ValueError, match="task must be one of"):
        matrix_heatmap(_matrix(), task="nope")
    with pytest.raises(ValueError, match="missing columns"):
        matrix_heatmap(pd.DataFrame({"method": ["a"]}))
