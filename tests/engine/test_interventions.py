"""Interventions on hand-made site values: which rows, positions, heads and steps an edit touches, and the
order a plan visits (layer, site) groups in."""

import pytest
import torch

from musicinterp.engine import trace_codes
from musicinterp.engine.interventions import Intervention, StepWindow, add, apply_fn, plan, replace
from musicinterp.errors import InputError


def _value():
    # 4 decoder rows (2 prompts x cond/uncond), 3 positions, 2 heads of width 2
    return torch.arange(4 * 3 * 2 * 2, dtype=torch.float32).reshape(4, 3, 2, 2)


def test_step_windows():
    assert [s for s in range(15) if StepWindow(1, 12, 5).contains(s)] == [1, 6, 11]
    assert [s for s in range(5) if StepWindow().contains(s)] == [0, 1, 2, 3, 4]
    assert [s for s in range(10) if StepWindow(start=7).contains(s)] == [7, 8, 9]
    assert [s for s in range(10) if StepWindow(2, 4).contains(s)] == [2, 3]
    assert not any(StepWindow(3, 3).contains(s) for s in range(10))
    for bad in [dict(start=-1), dict(every=0), dict(start=5, stop=2)]:
        with pytest.raises(InputError, match="invalid step window"):
            StepWindow(**bad)


def test_add_to_one_head_of_the_conditional_rows_at_the_newest_position():
    value = _value()
    iv = add("attn_z", 3, torch.tensor([10.0, 20.0]), heads=[1], rows="cond", scale=0.5)
    out = iv.edit(value, iv.context(step=4, batch=2, guided=True))
    want = value.clone()
    want[0, 2, 1] += torch.tensor([5.0, 10.0])
    want[1, 2, 1] += torch.tensor([5.0, 10.0])
    assert torch.equal(out, want)
    assert torch.equal(value, _value())  # the input is not edited in place
    assert iv.name == "add@attn_z3"


def test_teacher_forced_edits_touch_every_position():
    value = _value()
    iv = replace("attn_z", 0, torch.zeros(2), heads=[0], rows="uncond")
    out = iv.edit(value, iv.context(step=-1, batch=2, guided=True))
    assert (out[2:, :, 0] == 0).all()
    assert torch.equal(out[:2], value[:2]) and torch.equal(out[2:, :, 1], value[2:, :, 1])
    every = add("resid", 0, torch.ones(2, 2), positions="all")  # all positions of a generation pass
    out = every.edit(value, every.context(step=3, batch=4, guided=False))
    assert torch.equal(out, value + 1)


def test_rows_that_do_not_exist_are_left_alone():
    value = _value()
    iv = replace("attn_z", 0, torch.zeros(2), rows="uncond")
    ctx = iv.context(step=0, batch=4, guided=False)  # no guidance: there are no unconditional rows
    assert ctx.rows == slice(0, 0) and iv.edit(value, ctx) is value


def test_a_read_leaves_the_value_and_sees_its_slice():
    seen = []

    def read(x, ctx):
        seen.append((tuple(x.shape), ctx.step, ctx.layer, ctx.site, ctx.batch, ctx.guided))

    value = _value()
    iv = apply_fn("cross_z", 2, read, heads=[0, 1], rows="cond")
    assert iv.edit(value, iv.context(step=5, batch=2, guided=True)) is value
    assert seen == [((2, 1, 2, 2), 5, 2, "cross_z", 2, True)]
    assert iv.name == "read"


def test_a_wrong_shape_and_bad_fields_are_named():
    iv = apply_fn("resid", 0, lambda x, ctx: torch.zeros(1), name="mine")
    with pytest.raises(InputError, match=r"intervention mine returned shape \(1,\), expected \(4, 1, 2, 2\)"):
        iv.edit(_value(), iv.context(step=0, batch=2, guided=True))
    with pytest.raises(InputError, match="heads= only applies to per-head sites"):
        add("mlp_out", 0, torch.zeros(2), heads=[0])
    with pytest.raises(InputError, match="rows must be one of"):
        Intervention("resid", 0, lambda x, c: None, rows="all")
    with pytest.raises(InputError, match="positions must be 'new' or 'all'"):
        Intervention("resid", 0, lambda x, c: None, positions="last")
    with pytest.raises(ValueError, match="unknown site 'attn'"):
        Intervention("attn", 0, lambda x, c: None)


def test_plan_follows_the_forward_pass_and_keeps_given_order_within_a_group():
    a = add("resid", 1, torch.zeros(1), name="a")
    b = add("attn_z", 1, torch.zeros(1), name="b")
    c = add("resid", 0, torch.zeros(1), name="c")
    d = add("resid", 1, torch.zeros(1), name="d")
    got = [(layer, site, [iv.name for iv in ivs]) for layer, site, ivs in plan([a, b, c, d], reads=[(1, "mlp_out")])]
    assert got == [(0, "resid", ["c"]), (1, "attn_z", ["b"]), (1, "mlp_out", []), (1, "resid", ["a", "d"])]


def test_function_edit_and_replace(tiny, codes):
    seen = []

    def zero_and_record(x, ctx):
        seen.append((ctx.layer, tuple(x.shape)))
        return torch.zeros_like(x)

    res = trace_codes(tiny, codes, read={"mlp_out": [0]}, interventions=[apply_fn("mlp_out", 0, zero_and_record)])
    assert seen == [(0, (2, 16, 64))]
    assert res.activations["mlp_out"].abs().max() == 0
