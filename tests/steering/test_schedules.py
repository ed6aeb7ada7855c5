"""Schedules against hand-computed numbers, alone and inside a generation's strength log."""

import pytest
import torch

from musicinterp.steering import ApplySpec, Constant, Decay, SteerRun, StrengthLog, steer

from .conftest import fit_all


def test_decay_halves_every_half_life():
    d = Decay(value=2.0, half_life=10.0)
    assert [d(s) for s in (0, 10, 20, 30)] == pytest.approx([2.0, 1.0, 0.5, 0.25])
    assert d(5) == pytest.approx(2.0 / 2**0.5)
    assert d.factor(20, 3).tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_decay_scales_the_strength_per_step_but_not_teacher_forced_traces():
    run = SteerRun(ApplySpec(), 3.0, 1.0, Decay(value=1.0, half_life=4.0), StrengthLog())
    assert run.per_prompt(8, 2).tolist() == pytest.approx([0.75, 0.75])  # 3 * 0.5 ** (8 / 4)
    assert run.per_prompt(-1, 2).tolist() == pytest.approx([3.0, 3.0])  # step -1: no schedule
    assert Constant(0.5).factor(7, 1).tolist() == [0.5]


def test_a_decayed_generation_logs_the_decayed_strengths(tiny_store):
    model, store = tiny_store
    st = fit_all(store)["diffmeans"]  # strength 1.0, every step
    res = steer(model, st, schedule=Decay(value=1.0, half_life=2.0), batch=1, n_frames=3, seed=0,
                decode_audio=False)
    log = next(iter(res.logs.values()))
    assert log.steps == list(range(6))  # 3 frames + 3 delay steps
    assert log.strengths == pytest.approx([0.5 ** (s / 2) for s in range(6)])
    assert torch.equal(res.codes, steer(model, st, schedule=Decay(value=1.0, half_life=2.0), batch=1, n_frames=3,
                                        seed=0, decode_audio=False).codes)


def test_ramp_rises_linearly_then_holds():
    from musicinterp.steering import Ramp, SpecError

    r = Ramp(steps=4, value=2.0)
    assert [r(s) for s in (0, 1, 2, 4, 9)] == pytest.approx([0.0, 0.5, 1.0, 2.0, 2.0])
    assert Ramp(steps=2, low=0.5)(1) == pytest.approx(0.75)
    with pytest.raises(SpecError):
        Ramp(steps=0)


def test_a_ramped_generation_logs_rising_strengths(tiny_store):
    from musicinterp.steering import Ramp

    model, store = tiny_store
    st = fit_all(store)["diffmeans"]
    res = steer(model, st, schedule=Ramp(steps=2), batch=1, n_frames=4, seed=0, decode_audio=False)
    log = next(iter(res.logs.values()))
    assert log.strengths[: 3] == pytest.approx([0.0, 0.5, 1.0])
