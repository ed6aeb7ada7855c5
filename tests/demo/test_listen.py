"""The listening section's monitor facts (the generation itself runs in ``musicinterp demo``)."""

import torch

from musicinterp.demo.listen import _monitor_facts
from musicinterp.steering.monitor import MonitorTrace


def test_monitor_facts_count_stops_in_the_block_and_pick_a_stopping_prompt():
    # prompts 0-1: another block; 2-3: this block; prompt 3 crosses tau = 0.5 at step 2
    readings = [torch.tensor([0.9, 0.9, 0.1, 0.2]), torch.tensor([0.9, 0.9, 0.2, 0.4]),
                torch.tensor([0.9, 0.9, 0.3, 0.6])]
    trace = MonitorTrace(steps=[0, 1, 2], readings=readings, strengths=[torch.ones(4)] * 3, tau=0.5)
    facts, prompt = _monitor_facts(trace, {"calibrated": True, "note": ""}, slice(2, 4))
    assert (facts["stopped"], facts["n"], facts["stop_step"], prompt) == (1, 2, 2, 3)
    low = MonitorTrace(steps=[0, 1], readings=[torch.tensor([0.1, 0.3])] * 2, strengths=[torch.ones(2)] * 2, tau=0.5)
    facts, prompt = _monitor_facts(low, {"calibrated": True, "note": ""}, slice(0, 2))
    assert facts["stopped"] == 0 and prompt == 1 and "0.30" in facts["why"]
