"""The steering matrix: cells are the underlying Comparisons' best settings, per method, concept and direction."""

import pytest
import torch

from musicinterp.compare.matrix import CELL_FIELDS, SteeringMatrix, steering_matrix
from musicinterp.compare.run import Comparison, Task, run_comparison
from musicinterp.steering import DiffMeansConfig, DiffMeansSteerer, ITIConfig, ITISteerer

SWEEPS = {"iti": [0.0, 400.0], "diffmeans": [0.0, 6.0]}


def _tasks(concept, add):
    prompts = torch.randint(0, 2048, (2, 4, 6), generator=torch.Generator().manual_seed(5 + add))
    return [Task("continuation", {"prompt_codes": prompts, "n_frames": 5, "do_sample": False}, prompt_frames=6),
            Task("fresh", {"batch": 2, "n_frames": 5, "do_sample": False})]  # the tiny model has no tokenizer


def _build(store):
    def build(concept, remove):
        return {"iti": ITISteerer.fit(store, concept, ITIConfig(k=3, strength=4.0, remove=remove)),
                "diffmeans": DiffMeansSteerer.fit(store, concept, DiffMeansConfig(layers=[1], remove=remove))}
    return build


def _oracle_best(rows, method, max_collateral=0.10, min_validity=0.95):
    """The best setting by hand: most successful within limits (ties: smaller NLL increase), else most successful."""
    mine = [r for r in rows if r["method"] == method]
    ok = [r for r in mine if (r["validity"] is None or r["validity"] >= min_validity)
          and r["collateral"] <= max_collateral]
    pool = ok or mine
    top = max(r["success"] for r in pool)
    pick = min((r for r in pool if r["success"] == top), key=lambda r: r["nll_increase"])
    return pick, bool(ok)


def test_matrix_cells_equal_the_comparisons_best_rows(tiny_store_for_compare):
    model, store = tiny_store_for_compare
    concepts = ["drums", "tempo"]
    matrix = steering_matrix(model, _build(store), concepts, n=2, sweeps=SWEEPS, tasks=_tasks, progress=False)
    assert set(matrix.comparisons) == {(c, d) for c in concepts for d in ("add", "remove")}
    assert matrix.methods == ["iti", "diffmeans"] and matrix.tasks == ["continuation", "fresh"]
    for (concept, direction), comp in matrix.comparisons.items():
        # the same comparison run directly gives the same rows (same prompts, seeds, lengths)
        direct = run_comparison(model, _build(store)(concept, direction == "remove"), concept,
                                add=direction == "add", tasks=_tasks(concept, direction == "add"), sweeps=SWEEPS,
                                progress=False)
        assert [(r["method"], r["strength"], r["success"], r["collateral"]) for r in comp.rows] == \
               [(r["method"], r["strength"], r["success"], r["collateral"]) for r in direct.rows]
        for task in ("continuation", "fresh"):
            cells = matrix.cells(task)
            for method in ("iti", "diffmeans"):
                pick, inside = _oracle_best([r for r in comp.rows if r["task"] == task], method)
                cell = cells[method][concept][direction]
                assert set(cell) == set(CELL_FIELDS) | {"most_moved", "unmeasured"}
                assert cell["unmeasured"] == sorted(pick.get("collateral_unmeasured") or {})
                moves = pick.get("collateral_by_judge") or {}
                assert cell["most_moved"] == (max(moves, key=moves.get) if moves else None)
                assert cell["within_limits"] is inside
                for key in ("success", "validity", "collateral", "nll_increase", "strength"):
                    assert cell[key] == pick[key]
    frame = matrix.to_pandas()
    assert len(frame) == 2 * 2 * 2 * 2  # methods x concepts x directions x tasks
    passing = sum(bool(r.within_limits) and r.success >= 0.9 for r in frame[frame.task == "continuation"]
                  .itertuples())
    assert matrix.cells_passing() == passing and matrix.cells_total() == 8
    assert list(frame["passes"]) == [bool(w) and s >= 0.9 for w, s in zip(frame.within_limits, frame.success,
                                                                            strict=True)]


def _comp(target, add, rows):
    comp = Comparison(target=target, add=add)
    comp.unsteered = {"continuation": {"task": "continuation", "method": "unsteered", "success": 0.0}}
    comp.rows = [{"task": "continuation", "nll_increase": 0.1, "validity": 1.0, **r} for r in rows]
    return comp


def test_cells_pick_within_limits_and_count_passing():
    matrix = SteeringMatrix(comparisons={
        ("drums", "add"): _comp("drums", True, [
            {"method": "a", "strength": 1.0, "success": 0.95, "collateral": 0.0},
            {"method": "a", "strength": 2.0, "success": 1.0, "collateral": 0.3},  # best, but outside the limits
            {"method": "b", "strength": 1.0, "success": 0.99, "collateral": 0.0, "validity": 0.5}]),
        ("drums", "remove"): _comp("drums", False, [
            {"method": "a", "strength": 1.0, "success": 0.85, "collateral": 0.05},
            {"method": "b", "strength": 1.0, "success": 0.9, "collateral": 0.1}])})
    cells = matrix.cells()
    assert {k: v for k, v in cells["a"]["drums"]["add"].items() if v is not None} == {
        "success": 0.95, "validity": 1.0, "collateral": 0.0, "nll_increase": 0.1, "within_limits": True,
        "strength": 1.0, "unmeasured": []}  # rows without intervals: no interval fields, no verdict
    assert cells["b"]["drums"]["add"]["within_limits"] is False and cells["b"]["drums"]["add"]["success"] == 0.99
    assert cells["b"]["drums"]["remove"]["within_limits"] is True
    assert matrix.cells_passing() == 2 and matrix.cells_total() == 4  # a/add 0.95, b/remove 0.90
    assert "2 methods x 1 concepts x 2 directions x 1 tasks; continuation: 2/4 cells pass" in repr(matrix)
    assert matrix.unsteered()["drums"]["remove"]["success"] == 0.0
    with pytest.raises(ValueError, match="task must be one of"):
        matrix.cells("text")


def test_explain_names_the_bars_each_cell_misses_and_the_floor():
    matrix = SteeringMatrix(comparisons={
        ("bass", "add"): _comp("bass", True, [
            {"method": "a", "strength": 1.0, "success": 0.84, "collateral": 0.16, "validity": 0.91,
             "collateral_by_judge": {"key_kept": 0.16, "rate_mode": 0.03}},
            {"method": "b", "strength": 2.0, "success": 0.95, "collateral": 0.0},
            {"method": "c", "strength": 1.0, "success": 0.5, "collateral": 0.05},  # best: inside the limits
            {"method": "c", "strength": 2.0, "success": 0.95, "collateral": 0.3, "collateral_by_judge": {"x": 0.3}},
            {"method": "c", "strength": 3.0, "success": 1.0, "collateral": 0.5}])})
    matrix.comparisons[("bass", "add")].floor = {"continuation": {"collateral": 0.12}}
    why = matrix.explain().set_index("method")
    assert why.loc["a", "limits"] == "success 84% < 90%; validity 0.91 < 0.95; collateral 0.16 > 0.10 (floor 0.12)"
    assert why.loc["a", "most_moved"] == "key_kept" and not why.loc["a", "passes"]
    assert why.loc["b", "limits"] == "" and why.loc["b", "passes"] and why.loc["b", "collateral_floor"] == 0.12
    assert why.loc["c", "limits"] == "success 50% < 90%" and why.loc["c", "strength"] == 1.0
    # what stands in the way: the weakest setting that reaches 90%
    assert why.loc["c", "reach_strength"] == 2.0 and why.loc["c", "reach_most_moved"] == "x"
    assert why.loc["c", "reach_limits"] == "collateral 0.30 > 0.10 (floor 0.12)"
    assert why.loc["a", "reach_strength"] == 1.0 and why.loc["a", "reach_success"] == 0.84  # none reaches: the top
    assert matrix.collateral_floor() == {"bass": {"add": 0.12}}


def test_matrix_refuses_bad_arguments(tiny_store_for_compare):
    model, store = tiny_store_for_compare
    with pytest.raises(ValueError, match="directions must be"):
        steering_matrix(model, _build(store), ["drums"], directions=["up"], progress=False)
    with pytest.raises(ValueError, match="concepts must be"):
        steering_matrix(model, _build(store), [], progress=False)
    with pytest.raises(ValueError, match="must return a non-empty dict"):
        steering_matrix(model, lambda c, r: {}, ["drums"], tasks=_tasks, progress=False)
    assert repr(SteeringMatrix()) == "SteeringMatrix(empty)"
