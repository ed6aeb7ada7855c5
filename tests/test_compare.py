"""The comparison harness: a strength sweep in one batch equals one setting at a time (greedy)."""

import torch

from musicinterp import load_model
from musicinterp.compare import Task, run_comparison
from musicinterp.steering import ITIConfig, ITISteerer


def test_batched_sweep_matches_one_setting_at_a_time(tiny_store_for_compare):
    model, store = tiny_store_for_compare
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, alpha=4.0))
    prompts = torch.randint(0, 2048, (2, 4, 6), generator=torch.Generator().manual_seed(1))
    task = Task("continuation", {"prompt_codes": prompts, "n_frames": 5, "do_sample": False}, prompt_frames=6)
    kw = dict(tasks=[task], sweeps={"iti": [0.0, 60.0, 400.0]}, progress=False, keep_results=True)
    batched = run_comparison(model, {"iti": iti}, "drums", batched=True, **kw)
    looped = run_comparison(model, {"iti": iti}, "drums", batched=False, **kw)
    assert len(batched.rows) == len(looped.rows) == 3
    for a, b in zip(batched.rows, looped.rows, strict=True):
        assert a["strength"] == b["strength"]
        assert torch.equal(a["result"].codes, b["result"].codes)
        assert a["success"] == b["success"] and abs(a["nll"] - b["nll"]) < 1e-5
    assert not torch.equal(batched.rows[0]["result"].codes, batched.rows[2]["result"].codes)
    assert load_model  # the harness is model-agnostic in its inputs: a random model runs it


def test_best_marks_settings_outside_the_limits():
    from musicinterp.compare import Comparison

    comp = Comparison(target="drums", add=True)
    base = {"task": "t", "nll_increase": 0.1}
    comp.rows = [{**base, "method": "a", "strength": 1.0, "success": 0.9, "validity": 0.0, "collateral": 0.0},
                 {**base, "method": "b", "strength": 1.0, "success": 0.5, "validity": 1.0, "collateral": 0.0},
                 {**base, "method": "b", "strength": 2.0, "success": 1.0, "validity": 1.0, "collateral": 0.5}]
    best = {r["method"]: r for r in comp.best("t")}
    assert best["a"]["within_limits"] is False  # validity 0.00 is never printed as a best setting
    assert best["b"]["within_limits"] is True and best["b"]["strength"] == 1.0
    frame = comp.to_pandas()
    assert list(frame["within_limits"]) == [False, True, False]
    assert "3 settings, 1 within limits" in repr(comp)
