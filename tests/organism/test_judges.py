"""Organism judges against the exact detectors and the world's own nuisance draws."""

import numpy as np
import pytest
import torch

from musicinterp.judges import JudgeInputError
from musicinterp.organism import DynamicsJudge, KeyJudge, ModeJudge, OrganismJudge, organism_judges
from musicinterp.organism import vocab as V
from musicinterp.organism.detectors import detect
from musicinterp.organism.judges import estimate_key
from musicinterp.organism.world import MAJOR, OrganismWorld


@pytest.fixture(scope="module")
def world_batch():
    codes, clips = OrganismWorld(200).batch(range(120))
    return codes, clips


def _lead_onsets(row):
    """(pitch class, velocity) of every lead onset of one clip, by a plain loop."""
    out = []
    for tok in row.tolist():
        if 1 <= tok < V.LEAD_ONSET_MAX:
            out.append(((V.LEAD_LOW_MIDI + (tok - 1) // V.LEAD_VELOCITIES) % 12, (tok - 1) % V.LEAD_VELOCITIES))
    return out


def test_concept_judges_equal_the_detectors(world_batch):
    codes, clips = world_batch
    judges = organism_judges()
    assert [j.concept for j in judges] == ["drums", "tempo", "timbre", "bass"]
    for judge in judges:
        scores, present = detect(codes, judge.concept)
        res = judge(codes)
        np.testing.assert_allclose(res.scores, scores.double().numpy())
        assert res.present.tolist() == present.bool().tolist()
        truth = [getattr(c.latents, judge.concept) == 1 for c in clips]
        assert res.agreement(truth) == 1.0  # the detectors are exact on world clips
    assert OrganismJudge("drums")(codes[0]).scores.shape == (1,)


def test_organism_judges_refuse_bad_input():
    with pytest.raises(ValueError, match="unknown organism concept 'piano'"):
        OrganismJudge("piano")
    with pytest.raises(JudgeInputError, match="codes"):
        OrganismJudge("drums")(torch.zeros(2, 3, 10, dtype=torch.long))
    with pytest.raises(ValueError, match="tonic must be pitch classes"):
        KeyJudge(12)


def test_key_judge_score_is_the_in_scale_fraction_of_lead_onsets(world_batch):
    codes, clips = world_batch
    tonic = [(c.nuisance.key + 7) % 12 for c in clips]  # the lead's tonic (world: midi 60 + key - 5)
    major_form = [(t + 3) % 12 if c.nuisance.minor else t for t, c in zip(tonic, clips, strict=True)]
    res = KeyJudge(major_form)(codes)
    for i in range(0, 120, 17):
        onsets = _lead_onsets(codes[i, V.LEAD])
        scale = {(major_form[i] + s) % 12 for s in MAJOR}
        assert res.scores[i] == pytest.approx(np.mean([pc in scale for pc, _ in onsets]))
    assert res.rate >= 0.95  # off-scale notes only where the world clips the lead to its range
    tritone = KeyJudge([(t + 6) % 12 for t in major_form])(codes)
    assert tritone.rate == 0.0
    with pytest.raises(JudgeInputError, match="3 tonics"):
        KeyJudge([0, 1, 2])(codes[:5])


def test_key_estimate_and_mode_follow_the_worlds_key(world_batch):
    codes, clips = world_batch
    tonic, minor = estimate_key(codes)
    true_tonic = torch.tensor([(c.nuisance.key + 7) % 12 for c in clips])
    true_minor = torch.tensor([c.nuisance.minor for c in clips])
    bass = torch.tensor([c.latents.bass == 1 for c in clips])
    exact = (tonic == true_tonic) & (minor == true_minor)
    assert exact[bass].float().mean() >= 0.95  # the bass roots tell relative keys apart
    mode = ModeJudge()(codes)
    assert (torch.from_numpy(mode.present) == true_minor)[bass].float().mean() >= 0.95
    assert np.isnan(mode.scores[~bass.numpy()]).all()  # no bass: the mode cannot be heard
    assert not mode.present[~bass.numpy()].any()
    assert mode.rate == pytest.approx(float(true_minor[bass].float().mean()), abs=0.05)  # decided clips only
    like = KeyJudge.like(codes)
    assert like(codes).rate >= 0.95  # every clip stays in its own key


def test_dynamics_is_the_mean_lead_velocity(world_batch):
    codes, clips = world_batch
    res = DynamicsJudge()(codes)
    for i in range(0, 120, 13):
        assert res.scores[i] == pytest.approx(np.mean([v for _, v in _lead_onsets(codes[i, V.LEAD])]), rel=1e-6)
    loud = np.array([c.nuisance.dynamics == 2 for c in clips])
    assert res.agreement(loud) >= 0.95
