import pytest
import torch

from musicinterp.steering import (
    ApplySpec,
    SMITINConfig,
    SMITINSteerer,
    steer,
)

from .conftest import fit_all


def test_smitin_monitor_stops_once_the_trait_is_present(tiny_store):
    model, store = tiny_store
    kw = dict(batch=2, n_frames=20, seed=0, decode_audio=False)
    always = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=3, tau=0.0, interval=1))
    res = steer(model, always, **kw)
    trace = next(iter(res.monitors.values()))
    readings, strengths = trace.as_tensors()
    assert readings.shape == (23, 2)
    assert (strengths[:3] > 0).all() and (strengths[3:] == 0).all()  # warm-up, then stopped
    assert trace.edited == [0, 1, 2]
    never = SMITINSteerer.fit(store, "drums", SMITINConfig(strength=5.0, monitor_heads=4, warmup=3, tau=1.01, interval=5))
    res = steer(model, never, **kw)
    trace = next(iter(res.monitors.values()))
    assert trace.edited == [0, 5, 10, 15, 20]  # every s = 5 steps
    _, s = trace.as_tensors()
    expected = 5.0 * (1 - trace.readings[4] / 1.01)  # strength for step 5 comes from step 4's reading
    assert torch.allclose(s[5], expected, atol=1e-5)


def test_smitin_strength_for_step_t_uses_readings_up_to_t_minus_1(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(strength=5.0, monitor_heads=4, warmup=0, tau=0.9, interval=1))
    trace = next(iter(steer(model, st, batch=1, n_frames=8, seed=1, decode_audio=False).monitors.values()))
    readings, strengths = trace.as_tensors()
    assert strengths[0, 0] == 5.0  # nothing read yet at step 0
    for t in range(1, len(trace.steps)):
        c = readings[t - 1, 0]
        want = 0.0 if c >= 0.9 else 5.0 * (1 - c / 0.9)
        assert abs(float(strengths[t, 0]) - float(want)) < 1e-5


def test_smitin_monitor_reads_before_its_own_push(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=8, warmup=5, interval=1))
    kw = dict(batch=2, n_frames=4, seed=0, decode_audio=False, record_logits=True)
    off_run = steer(model, st, strength=0.0, **kw)
    off = next(iter(off_run.monitors.values()))
    # with every edit at layer 1 only, step 0's readings cannot see the push (layer-1 heads read first)
    only_last = steer(model, st, strength=50.0, spec=ApplySpec(layers=[1], every=1), **kw)
    first = next(iter(only_last.monitors.values()))
    assert torch.allclose(first.readings[0], off.readings[0], atol=1e-6)
    push = (only_last.logits[0] - off_run.logits[0]).abs().max()
    assert push > 1e-4  # the push itself was real




@pytest.mark.parametrize("method", ["iti", "diffmeans", "regression"])
def test_every_method_can_run_self_monitored(tiny_store, method):
    from musicinterp.steering import ProbeMonitor

    model, store = tiny_store
    st = fit_all(store)[method]
    monitor = ProbeMonitor.fit(store, "drums", n_units=4, warmup=2, tau=0.0)  # trait "present" at once
    res = steer(model, st, schedule=monitor, batch=2, n_frames=8, seed=0, decode_audio=False)
    trace = res.monitors[f"{method}:drums"]
    readings, strengths = trace.as_tensors()
    assert readings.shape == (11, 2)
    assert trace.edited == [0, 1] and (strengths[2:] == 0).all()  # warm-up, then stopped
    assert res.logs[f"{method}:drums"].steps[:2] == [0, 1]


def test_a_monitor_reused_across_generations_starts_clean(tiny_store):
    from musicinterp.steering import ProbeMonitor

    model, store = tiny_store
    iti = fit_all(store)["iti"]
    monitor = ProbeMonitor.fit(store, "drums", n_units=4, warmup=1, tau=0.6, latch=True)
    kw = dict(batch=2, n_frames=6, seed=0, decode_audio=False)
    first = steer(model, iti, schedule=monitor, **kw).monitors["iti:drums"].as_tensors()
    second = steer(model, iti, schedule=monitor, **kw).monitors["iti:drums"].as_tensors()
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert len(second[0]) == 9


def test_a_latched_monitor_stays_stopped(tiny_store):
    from musicinterp.steering import ProbeMonitor

    model, store = tiny_store
    iti = fit_all(store)["iti"]
    monitor = ProbeMonitor.fit(store, "drums", n_units=4, warmup=0, tau=0.5, latch=True)
    trace = steer(model, iti, schedule=monitor, batch=3, n_frames=10, seed=0, decode_audio=False).monitors["iti:drums"]
    readings, strengths = trace.as_tensors()
    stop = trace.stop_step()
    for p in range(3):
        if int(stop[p]) >= 0:
            assert (strengths[int(stop[p]) + 1:, p] == 0).all()
