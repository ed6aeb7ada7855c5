"""The demo's audio check: CLAP's reading of the best settings' audio, against the detector and by hand."""

import numpy as np
import pytest

from musicinterp.collect import collect
from musicinterp.demo.audio_check import agreement, clap_check
from musicinterp.organism.concept_sets import balanced_set
from musicinterp.organism.renderer import render
from musicinterp.steering import DiffMeansConfig, DiffMeansSteerer


@pytest.fixture(scope="module")
def compared(organism, tmp_path_factory):
    import musicinterp as mi

    store = collect(organism, balanced_set("drums", 32, seed=7), ["resid"], frames="pooled", batch_size=32,
                    out=tmp_path_factory.mktemp("audio_check") / "s", progress=False)
    steerers = {"diffmeans": DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[3]))}
    tasks = organism.world.tasks("drums", n=6, prompt_frames=32, new_frames=40)[:1]
    comp = mi.run_comparison(organism, steerers, "drums", tasks=tasks, sweeps={"diffmeans": [0.0, 3.0]},
                             keep_results=True, progress=False, noise_floor=False)
    best = {t: comp.best(t) for t in comp.unsteered}
    return comp, best, tasks


def test_clap_reads_the_same_generations_the_detector_read(organism, compared):
    comp, best, tasks = compared
    check = clap_check(organism, comp, best, tasks, "drums", remove=False)
    row = best["continuation"][0]
    got = check["continuation"][row["method"]]
    assert got["detector"] == pytest.approx(row["success"])
    # by hand: render the generated frames, score them with the organism CLAP's drums judge
    judge = next(j for j in organism.world.clap_judges() if j.concept == "drums")
    audio = render(row["result"].codes[..., tasks[0].prompt_frames:])
    by_hand = float(judge.decide(judge.score_audio(list(audio), organism.sample_rate)).mean())
    assert got["clap"] == pytest.approx(by_hand, abs=1e-4)
    assert {"fad_clap", "fad_clap_lo", "fad_clap_hi", "kad_clap", "distance_clap"} <= set(got)
    assert 0.0 <= got["distance_clap"] <= 2.0 and np.isfinite(got["fad_clap"])
    base = check["continuation"]["unsteered"]
    assert base["detector"] == pytest.approx(comp.unsteered["continuation"]["success"])
    audio = render(comp.baseline_codes["continuation"][..., tasks[0].prompt_frames:])
    assert base["clap"] == pytest.approx(float(judge.decide(judge.score_audio(list(audio), organism.sample_rate))
                                               .mean()), abs=1e-4)
    assert agreement(check)[1] == 1  # the unsteered row is not a best setting
    removing = clap_check(organism, comp, best, tasks, "drums", remove=True)
    assert removing["continuation"][row["method"]]["clap"] == pytest.approx(1 - got["clap"], abs=1e-4)


def test_agreement_counts_settings_within_ten_points():
    check = {"continuation": {"a": {"detector": 0.9, "clap": 0.85}, "b": {"detector": 1.0, "clap": 0.5},
                              "unsteered": {"detector": 0.0, "clap": 0.9}},
             "text": {"a": {"detector": 0.0, "clap": 0.1}}}
    assert agreement(check) == (2, 3) and agreement({}) == (0, 0)


def test_a_world_without_clap_judges_gives_no_check(compared, tiny):
    comp, best, tasks = compared
    assert clap_check(tiny, comp, best, tasks, "drums", remove=False) == {}
