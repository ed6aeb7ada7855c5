import pytest
import torch

from musicinterp.organism import CONCEPTS, OrganismWorld, detect_all, grammar_report, world_validity


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
