"""Steering moves the organism's ground-truth drum detector (continuations of clips without drums)."""

import pytest
import torch

from musicinterp import load_model
from musicinterp.collect import collect
from musicinterp.organism.concept_sets import balanced_set
from musicinterp.organism.metrics import organism_metrics
from musicinterp.organism.tasks import organism_tasks
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


def _guided_shift(model, steerer, task, rows: str, w: float):
    """Guided next-code logits at the first generated frame, steered minus unsteered, and the branch shifts."""
    from musicinterp.steering import ApplySpec

    kw = dict(seed=0, decode_audio=False, guidance_scale=w, record_logits=True, do_sample=False,
              **{**task.kwargs, "n_frames": 1})
    base = steer(model, [], **kw).logits[0]
    edited = steer(model, steerer, strength=3.0, spec=ApplySpec(rows=rows, start=0, stop=1), **kw).logits[0]
    b = base.shape[0] // 2  # rows: conditional first, then unconditional

    def guided(x):
        return x[b:] + w * (x[:b] - x[b:])

    return guided(edited) - guided(base), edited[:b] - base[:b], edited[b:] - base[b:]


def test_cfg_rows_algebra_on_the_organism(setup):
    """cond-only edits are amplified by the guidance scale w, uncond-only ones act as (1 - w) * edit
    (against it), and an edit on both rows moves the guided logits the same at any w."""
    model, store, task, _ = setup
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[model.n_layers - 1]))
    shifts = {(rows, w): _guided_shift(model, dm, task, rows, w) for rows in ("cond", "uncond", "both")
              for w in (2.0, 6.0)}
    g2, dc2, du2 = shifts[("cond", 2.0)]
    g6, dc6, du6 = shifts[("cond", 6.0)]
    assert du2.abs().max() == 0 and du6.abs().max() == 0  # the unconditional rows are untouched
    assert torch.allclose(dc2, dc6, atol=1e-5)  # the same edit of the conditional branch at any w ...
    assert torch.allclose(g6, 3.0 * g2, atol=1e-4)  # ... moves the guided logits by w times it
    assert torch.allclose(g2, 2.0 * dc2, atol=1e-4)
    u2, _, e2 = shifts[("uncond", 2.0)]
    u6, _, e6 = shifts[("uncond", 6.0)]
    assert torch.allclose(u2, -1.0 * e2, atol=1e-4) and torch.allclose(u6, -5.0 * e6, atol=1e-4)
    b2, b6 = shifts[("both", 2.0)][0], shifts[("both", 6.0)][0]
    # both rows: w cancels up to the small difference between the branches' responses to the edit
    assert (b6 - b2).norm() < 0.25 * (g6 - g2).norm()
    assert (b6 - b2).norm() < 0.5 * b2.norm()


def test_cfg_rows_move_the_detector_as_the_algebra_says(setup):
    """In generation at w = 3: steering only the conditional rows adds more drums than both rows at the
    same strength; steering only the unconditional rows adds none (it pushes the guided logits away)."""
    from musicinterp.steering import ApplySpec

    model, store, task, base = setup
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(layers=[model.n_layers - 1]))
    rates = {}
    for rows in ("cond", "both", "uncond"):
        res = steer(model, dm, strength=1.5, spec=ApplySpec(rows=rows), seed=0, decode_audio=False,
                    guidance_scale=3.0, **task.kwargs)
        rates[rows] = organism_metrics(model, res.codes, task.prompt_frames).rates["drums"]
    assert rates["cond"] >= rates["both"] + 0.25, rates
    assert rates["uncond"] <= base.rates["drums"], rates
