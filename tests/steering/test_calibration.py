import itertools

import pytest
import torch

import musicinterp as mi
from musicinterp.organism.detectors import CONCEPT_DETECTORS
from musicinterp.steering import SMITINConfig, SMITINSteerer, calibrate_monitor, steer
from musicinterp.steering.monitor import Monitor, best_threshold


class _Scripted(Monitor):
    """A monitor whose raw readings are given per step."""

    def __init__(self, raw: torch.Tensor, **kw) -> None:
        self.raw = raw
        self.i = 0
        super().__init__(**kw)

    def read_interventions(self, window):
        return []

    def score(self) -> torch.Tensor:
        out = self.raw[self.i]
        self.i += 1
        return out


def test_best_threshold_is_the_brute_force_balanced_accuracy_optimum():
    g = torch.Generator().manual_seed(3)
    readings = torch.rand(40, generator=g)
    reached = (readings + 0.3 * torch.randn(40, generator=g)) > 0.5

    def bal(t):
        pred = readings >= t
        return (float((pred & reached).sum()) / float(reached.sum())
                + float((~pred & ~reached).sum()) / float((~reached).sum())) / 2

    t = best_threshold(readings, reached)
    grid = torch.cat([readings, readings + 1e-6, readings - 1e-6]).tolist()
    assert bal(t) == pytest.approx(max(bal(x) for x in grid))


def test_relative_reading_subtracts_each_prompts_own_baseline():
    raw = torch.tensor([[0.2, 0.6], [0.4, 0.6], [0.5, 0.6], [0.9, 0.5]])
    mon = _Scripted(raw, tau=0.25, warmup=2, baseline_steps=2)
    readings = []
    for step in range(4):
        mon.end_step(step)
        readings.append(mon.reading.clone())
    assert torch.allclose(torch.stack(readings), torch.tensor([[0, 0], [0, 0], [0.2, 0.0], [0.6, -0.1]]),
                          atol=1e-6)
    # step 3: prompt 0 moved 0.6 above its baseline (>= tau: stop), prompt 1 fell (full strength)
    assert mon.gate.tolist() == pytest.approx([0.0, 1.0])


def test_baseline_longer_than_warmup_is_refused():
    with pytest.raises(ValueError, match="baseline_steps=10 must lie in 0..warmup"):
        _Scripted(torch.zeros(1, 1), tau=0.1, warmup=5, baseline_steps=10)


def test_calibration_needs_both_outcomes(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=3, interval=1))
    mon = st.monitor(baseline_steps=2)
    with pytest.raises(ValueError, match="nothing to separate"):
        calibrate_monitor(st, model, mon, judge=lambda c: torch.ones(c.shape[0], dtype=torch.bool), strength=2.0,
                          batch=2, n_frames=6, decode_audio=False)
    with pytest.raises(ValueError, match="strength must be positive"):
        calibrate_monitor(st, model, mon, judge=lambda c: torch.ones(c.shape[0]), strength=0.0, batch=2, n_frames=6)


def test_calibration_reads_like_the_monitor_and_picks_the_separating_tau(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=3, interval=1))
    flips = itertools.cycle([torch.tensor([True, False]), torch.tensor([False, True])])
    cal = st.calibrate_monitor(model, judge=lambda c: next(flips), strength=3.0, baseline_steps=2, batch=2,
                               n_frames=8, decode_audio=False)
    assert cal.readings.shape == (4,) and cal.reached.tolist() == [True, False, False, True]
    assert cal.tau == pytest.approx(best_threshold(cal.readings, cal.reached))
    assert st.config.tau == cal.tau and st.config.baseline_steps == 2
    trace = next(iter(steer(model, st, batch=2, n_frames=8, seed=0, decode_audio=False).monitors.values()))
    assert trace.tau == cal.tau  # the steerer's own monitor now uses the calibrated tau
    assert "balanced accuracy" in repr(cal)


@pytest.mark.slow
def test_calibrated_smitin_monitor_stops_on_held_out_continuations(tmp_path):
    """The fix for a monitor that kept steering drums it had already added (issue: readings carried the prompt)."""
    model = mi.load_model("organism")
    store = mi.collect(model, mi.organism.balanced_set("drums", 256, seed=7), ["attn_z"], out=tmp_path / "s",
                       frames="pooled", batch_size=32, progress=False)
    det = CONCEPT_DETECTORS["drums"]
    judge = lambda codes: det.score(codes) >= det.threshold  # noqa: E731
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=8, interval=2))
    st.calibrate_monitor(model, judge=judge, strength=25.0, prompt_codes=mi.organism.prompt_codes(12, without="drums", seed=1),
                         batch=12, n_frames=200, decode_audio=False)
    with st.apply(model, strength=25.0):
        res = mi.generate(model, prompt_codes=mi.organism.prompt_codes(16, without="drums", seed=2), batch=16, n_frames=200,
                          seed=0, decode_audio=False)
    present = judge(res.codes[..., 200:])
    stopped = next(iter(res.monitors.values())).stop_step() >= 0
    assert present.float().mean() >= 0.8
    assert (stopped & present).sum() / present.sum() >= 0.9
