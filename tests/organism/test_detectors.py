import pytest
import torch

from musicinterp.organism import CONCEPTS, OrganismWorld, detect, detect_all, grammar_report, world_validity
from musicinterp.organism.concept_sets import balanced_set, paired_set


@pytest.fixture(scope="module")
def sampled():
    return OrganismWorld(200).batch(range(400))


def test_detectors_agree_with_latents(sampled):
    codes, clips = sampled
    det = detect_all(codes)
    for concept in CONCEPTS:
        latents = torch.tensor([getattr(c.latents, concept) for c in clips])
        agreement = (det[concept] == latents).float().mean().item()
        assert agreement >= 0.99, (concept, agreement)
        assert 0.3 < latents.float().mean() < 0.7  # the sampler keeps both poles


def test_sampled_clips_obey_the_grammar_and_broken_ones_do_not(sampled):
    codes, _ = sampled
    assert world_validity(codes).all()
    broken = codes[:4].clone()
    broken[:, 0, 50] = 0  # lead never falls silent
    broken[1, 1, 10] = 255  # not a drum token
    assert not world_validity(broken).any()
    from musicinterp.organism.detectors import grammar_violations

    report = grammar_report(broken)
    assert report["lead_token"].tolist() == [1, 1, 1, 1] and report["drums"].tolist() == [0, 1, 0, 0]
    assert torch.equal(sum(report.values()), grammar_violations(broken))


def test_a_bass_sustain_needs_its_onset(sampled):
    from musicinterp.organism import vocab as V

    codes, clips = sampled
    quiet = next(i for i, c in enumerate(clips) if c.latents.bass == 0)
    clip = codes[quiet].clone()
    clip[V.BASS, 40:60] = V.bass_sustain(3)  # a bass note that sounds without ever starting
    report = grammar_report(clip)
    assert report["bass_sustain"].item() == 1 and report["bass_token"].item() == 0
    clip[V.BASS, 40] = V.bass_onset(3, 1)
    assert grammar_report(clip)["bass_sustain"].item() == 0 and world_validity(clip).item() == 1


def test_sampler_is_seeded_and_paired_clips_share_nuisance():
    world = OrganismWorld(100)
    a, b = world.sample(7), world.sample(7)
    assert torch.equal(a.codes, b.codes) and a.latents == b.latents
    on = world.with_concept(a, "drums", 1)
    off = world.with_concept(a, "drums", 0)
    assert torch.equal(on.codes[0], off.codes[0])  # same melody
    assert detect(on.codes, "drums")[1].item() == 1 and detect(off.codes, "drums")[1].item() == 0


def test_concepts_are_not_one_token():
    codes, _ = OrganismWorld(200).batch(range(64))
    drums = codes[:, 1][codes[:, 1] > 0]
    assert drums.unique().numel() >= 20
    assert codes[:, 0].unique().numel() >= 60


def test_concept_sets_balanced_and_paired():
    bal = balanced_set("bass", 20, seed=1)
    assert bal.codes.shape == (20, 4, 200) and bal.labels["bass"].sum() == 10
    assert torch.equal(detect(bal.codes, "bass")[1], bal.labels["bass"])
    pairs = paired_set("drums", 6, seed=2)
    assert len(pairs) == 12 and pairs.groups[0] == pairs.groups[1]
    assert pairs.labels["drums"].tolist() == [1, 0] * 6
    assert torch.equal(pairs.codes[0, 0], pairs.codes[1, 0])
    with pytest.raises(ValueError, match="unknown organism concept 'piano'"):
        balanced_set("piano", 4)
