"""The batched sweep gives the numbers of one trace per cell, and its edits match the intervention oracle."""

import pytest
import torch

from musicinterp import replace, trace_codes
from musicinterp.ablation.ablate import ablate
from musicinterp.ablation.cells import Cell, Target, build_grid
from musicinterp.ablation.metrics import CrossEntropy
from musicinterp.ablation.modes import zero_setter
from musicinterp.ablation.patching import patch
from musicinterp.ablation.sweep import _chunks, assign, run_cells


@pytest.mark.parametrize("mode,over", [("zero", ("layer", "head")), ("mean", ("layer",)),
                                       ("resample", ("layer", "head")), ("skip", ("layer",)),
                                       ("zero", ("layer", "frame"))])
def test_batched_equals_loop(tiny, tiny_inputs, tiny_store, mode, over):
    site = None if mode == "skip" else ("cross_z" if mode == "resample" else "attn_z")
    kw = dict(site=site, mode=mode, over=over, metric="ce", store=tiny_store, progress=False, frame_bin=3)
    batched = ablate(tiny, tiny_inputs, max_rows=6, **kw)
    loop = ablate(tiny, tiny_inputs, batched=False, **kw)
    assert batched.shape == loop.shape
    torch.testing.assert_close(batched.tensor, loop.tensor, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched.per_codebook, loop.per_codebook, atol=1e-5, rtol=0)
    assert batched.corrupt == pytest.approx(loop.corrupt, abs=1e-5)


def test_batched_equals_loop_guided_patching(tiny, tiny_guided):
    corrupt = tiny_guided.with_codes(torch.roll(tiny_guided.codes, 1, dims=0))
    for over in [("layer", "head"), ("layer", "frame")]:
        kw = dict(site="attn_z" if "head" in over else "resid", over=over, metric="kl", progress=False)
        batched = patch(tiny, tiny_guided, corrupt, max_rows=8, **kw)
        loop = patch(tiny, tiny_guided, corrupt, batched=False, **kw)
        torch.testing.assert_close(batched.tensor, loop.tensor, atol=1e-5, rtol=0)


def test_zero_cell_matches_intervention_oracle(tiny, tiny_inputs):
    """A cell zeroing head 1 of layer 1 scores what trace_codes with mi.engine.replace gives."""
    cell = Cell((0,), (Target(1, "attn_z", heads=(1,)),))
    got = run_cells(tiny, tiny_inputs, [cell], zero_setter(), CrossEntropy())[0]
    res = trace_codes(tiny, tiny_inputs.codes, cond=tiny_inputs.cond,
                      interventions=[replace("attn_z", 1, torch.zeros(16), heads=[1])])
    logp = torch.log_softmax(tiny.logits_to_frames(res.logits, 10), -1)
    nll = -logp.gather(-1, tiny_inputs.codes[..., None]).squeeze(-1)  # (B, K, T)
    torch.testing.assert_close(got, nll.mean(dim=(0, 2)), atol=1e-5, rtol=0)


def test_assign_narrows_heads_and_positions():
    block = torch.ones(2, 5, 3, 4)
    out = assign(block, torch.zeros(()), Target(0, "attn_z", heads=(2,), positions=(1, 3)))
    assert out.sum() == block.sum() - 2 * 2 * 4
    assert (out[:, [1, 3], 2] == 0).all() and (out[:, 0] == 1).all()
    flat = assign(torch.ones(2, 5, 8), torch.full((8,), 7.0), Target(0, "resid", positions=(4,)))
    assert (flat[:, 4] == 7).all() and (flat[:, :4] == 1).all()


def test_chunks_group_close_first_layers_and_respect_size(tiny):
    grid = build_grid(tiny, "attn_z", ("layer", "head"), n_positions=5)
    chunks = _chunks(grid.cells, 3, tiny.n_layers, True)
    assert sorted(i for c in chunks for i in c) == list(range(len(grid.cells)))
    assert all(len(c) <= 3 for c in chunks)
    assert [grid.cells[c[0]].first_layer for c in chunks][0] == 1  # latest layers first


def test_prefix_skipping_changes_nothing(tiny, tiny_inputs):
    grid = build_grid(tiny, "mlp_out", ("layer",), n_positions=14)
    a = run_cells(tiny, tiny_inputs, grid.cells, zero_setter(), CrossEntropy(), skip_prefix=True)
    b = run_cells(tiny, tiny_inputs, grid.cells, zero_setter(), CrossEntropy(), skip_prefix=False)
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
