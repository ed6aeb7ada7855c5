"""Steering moves the organism's ground-truth drum detector (continuations of clips without drums)."""

import pytest

from musicinterp import load_model
from musicinterp.collect import collect
from musicinterp.compare import organism_tasks
from musicinterp.evaluate import organism_metrics
from musicinterp.organism.concept_sets import balanced_set
from musicinterp.steering import DiffMeansConfig, DiffMeansSteerer, ITIConfig, ITISteerer, steer


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    model = load_model("organism")
    store = collect(model, balanced_set("drums", 128, seed=7), ["attn_z", "resid"],
                    out=tmp_path_factory.mktemp("org") / "s", frames="pooled", batch_size=32, progress=False)
    task = organism_tasks("drums", n=8, new_frames=100, seed=3)[0]
    base = steer(model, [], seed=0, decode_audio=False, **task.kwargs)
    return model, store, task, organism_metrics(model, base.codes, task.prompt_frames)


def test_iti_adds_drums_the_detector_sees(setup):
    model, store, task, base = setup
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=8))
    res = steer(model, iti, strength=5.0, seed=0, decode_audio=False, **task.kwargs)
    steered = organism_metrics(model, res.codes, task.prompt_frames)
    assert base.rates["drums"] <= 0.25
    assert steered.rates["drums"] >= base.rates["drums"] + 0.5


def test_diffmeans_removal_takes_drums_away(setup):
    model, store, _, _ = setup
    task = organism_tasks("drums", n=8, new_frames=100, seed=4, add=False)[0]
    base = organism_metrics(model, steer(model, [], seed=0, decode_audio=False, **task.kwargs).codes, 200)
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(remove=True, layers=[model.n_layers - 1]))
    res = steer(model, dm, strength=5.0, seed=0, decode_audio=False, **task.kwargs)  # removal needs more than adding
    assert base.rates["drums"] >= 0.75
    assert organism_metrics(model, res.codes, 200).rates["drums"] <= base.rates["drums"] - 0.5
