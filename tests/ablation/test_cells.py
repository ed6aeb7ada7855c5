"""Sweep cells and grids, checked against hand-written cells for a 3-layer, 2-head model."""

from types import SimpleNamespace

import pytest

from musicinterp.ablation.cells import (
    LAYER,
    Cell,
    Target,
    all_at_once,
    build_grid,
    check_heads,
    check_layers,
    execution_key,
    set_grid,
)
from musicinterp.ablation.inputs import AblationInputError

MODEL = SimpleNamespace(name="fake", n_layers=3, n_heads=2, has_cross_attention=False)


def test_layer_grid_one_cell_per_layer():
    grid = build_grid(MODEL, "attn_z", ("layer",), n_positions=7)
    assert grid.axes == ("layer",) and grid.shape == (3,)
    assert grid.labels == {"layer": [0, 1, 2]}
    assert grid.cells == [Cell((0,), (Target(0, "attn_z"),)), Cell((1,), (Target(1, "attn_z"),)),
                          Cell((2,), (Target(2, "attn_z"),))]
    assert build_grid(MODEL, "resid", "layer", n_positions=7, layers=[2]).cells == [Cell((0,), (Target(2, "resid"),))]


def test_layer_by_head_grid_is_row_major():
    grid = build_grid(MODEL, "attn_z", ("layer", "head"), n_positions=7)
    assert grid.shape == (3, 2) and grid.labels == {"layer": [0, 1, 2], "head": [0, 1]}
    assert [c.index for c in grid.cells] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert grid.cells[3] == Cell((1, 1), (Target(1, "attn_z", heads=(1,)),))


def test_windows_of_consecutive_layers():
    grid = build_grid(MODEL, "mlp_out", ("layer",), n_positions=7, window=2)
    assert grid.axes == ("window",) and grid.labels == {"window": ["0-1", "1-2"]}
    assert [tuple(t.layer for t in c.targets) for c in grid.cells] == [(0, 1), (1, 2)]
    whole = build_grid(MODEL, "mlp_out", ("window",), n_positions=7, window=3)
    assert whole.labels == {"window": ["0-2"]} and len(whole.cells[0].targets) == 3


def test_frame_bins_cover_every_position_once():
    grid = build_grid(MODEL, "resid", ("layer", "frame"), n_positions=7, frame_bin=3, layers=[1])
    assert grid.shape == (1, 3) and grid.labels["frame"] == [0, 3, 6]
    assert [c.targets[0].positions for c in grid.cells] == [(0, 1, 2), (3, 4, 5), (6,)]
    assert all(c.targets[0].layer == 1 for c in grid.cells)


def test_grid_arguments_are_refused_by_name():
    with pytest.raises(AblationInputError, match="over must be"):
        build_grid(MODEL, "attn_z", ("head",), n_positions=7)
    with pytest.raises(AblationInputError, match="over must be"):
        build_grid(MODEL, "attn_z", ("layer", "layer"), n_positions=7)
    with pytest.raises(AblationInputError, match=r"window must be 1\.\.3, got 4"):
        build_grid(MODEL, "attn_z", ("layer",), n_positions=7, window=4)
    with pytest.raises(AblationInputError, match="over: a 'head' axis needs a per-head site"):
        build_grid(MODEL, "resid", ("layer", "head"), n_positions=7)
    with pytest.raises(AblationInputError, match="frame_bin must be >= 1"):
        build_grid(MODEL, "resid", ("layer", "frame"), n_positions=7, frame_bin=0)
    with pytest.raises(AblationInputError, match="site: model 'fake' has no cross-attention"):
        build_grid(MODEL, "cross_z", ("layer",), n_positions=7)
    with pytest.raises(AblationInputError, match="site: unknown site 'attn'"):
        build_grid(MODEL, "attn", ("layer",), n_positions=7)
    with pytest.raises(AblationInputError, match=r"layers: layer 3 out of range for a 3-layer model \(0\.\.2\)"):
        check_layers(MODEL, [0, 3])
    with pytest.raises(AblationInputError, match=r"heads: head index -1 out of range .* 2 heads \(0\.\.1\)"):
        check_heads(MODEL, [-1])
    assert check_heads(MODEL, [1, 0]) == (1, 0) and check_layers(MODEL, range(3)) == (0, 1, 2)


def test_set_grid_cells_and_names():
    grid = set_grid(MODEL, "attn_z", [[(0, 1), (2, 0)], [(1, 1)]])
    assert grid.axes == ("set",) and grid.labels == {"set": ["L0H1 L2H0", "L1H1"]}
    assert grid.cells[0] == Cell((0,), (Target(0, "attn_z", heads=(1,)), Target(2, "attn_z", heads=(0,))))
    layers = set_grid(MODEL, LAYER, [[0, 2]], names=["outer"])
    assert layers.labels == {"set": ["outer"]} and layers.cells[0].targets == (Target(0, LAYER), Target(2, LAYER))
    assert layers.cells[0].first_layer == 0 and grid.cells[1].first_layer == 1
    with pytest.raises(AblationInputError, match="sets: set 1 is empty"):
        set_grid(MODEL, "attn_z", [[(0, 0)], []])
    with pytest.raises(AblationInputError, match=r"members of a attn_z set are \(layer, head\) pairs; got 1"):
        set_grid(MODEL, "attn_z", [[1]])
    with pytest.raises(AblationInputError, match="sets: layer 7 out of range"):
        set_grid(MODEL, "resid", [[7]])


def test_all_at_once_merges_every_target():
    heads = build_grid(MODEL, "attn_z", ("layer", "head"), n_positions=7)
    assert all_at_once(heads) == Cell((), tuple(Target(x, "attn_z", heads=(0, 1)) for x in range(3)))
    layers = build_grid(MODEL, "resid", ("layer",), n_positions=7)
    assert all_at_once(layers).targets == tuple(Target(x, "resid") for x in range(3))
    frames = build_grid(MODEL, "resid", ("layer", "frame"), n_positions=4, frame_bin=2, layers=[0])
    assert set(all_at_once(frames).targets) == {Target(0, "resid", positions=(0, 1)),
                                                Target(0, "resid", positions=(2, 3))}
    some = set_grid(MODEL, "attn_z", [[(1, 1)], [(0, 0), (1, 0)]])
    assert all_at_once(some).targets == (Target(0, "attn_z", heads=(0,)), Target(1, "attn_z", heads=(0, 1)))


def test_execution_order_inside_a_layer_and_the_written_site():
    pairs = [(1, "resid"), (0, "mlp_out"), (1, "layer_in"), (0, "attn_z"), (1, "cross_z"), (0, LAYER)]
    assert sorted(pairs, key=lambda p: execution_key(*p))[:3] == [(0, "attn_z"), (0, "mlp_out"), (0, LAYER)]
    assert sorted(pairs, key=lambda p: execution_key(*p))[3:] == [(1, "layer_in"), (1, "cross_z"), (1, "resid")]
    assert execution_key(2, LAYER) == execution_key(2, "resid")
    assert Target(0, LAYER).write_site == "resid" and Target(0, "cross_z", heads=(1,)).write_site == "cross_z"
