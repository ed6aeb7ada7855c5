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


def test_a_continuation_is_judged_with_its_prompt_as_context(sampled):
    """A window that opens on a sustain is forgiven alone, but with its prompt before it the sustain must
    continue the note the prompt ends on; violations inside the prompt are not the continuation's."""
    from musicinterp.organism import vocab as V

    codes, clips = sampled
    quiet = next(i for i, c in enumerate(clips) if c.latents.bass == 0)
    clip = codes[quiet].clone()
    clip[V.BASS, 100:140] = V.bass_sustain(5)  # the continuation (frames 100-199) opens on an orphan sustain
    assert world_validity(clip[..., 100:]).item() == 1  # the window alone: it may start mid-note
    assert world_validity(clip, start=100).item() == 0
    assert grammar_report(clip, start=100)["bass_sustain"].item() == 1
    clip[V.BASS, 90] = V.bass_onset(5, 1)  # the prompt now ends on that note: the sustain continues it
    clip[V.BASS, 91:100] = V.bass_sustain(5)
    assert world_validity(clip, start=100).item() == 1
    clip[V.LEAD, 50] = 0  # a break inside the prompt is context, not the continuation's
    assert world_validity(clip, start=100).item() == 1 and world_validity(clip).item() == 0
    with pytest.raises(ValueError, match="start must be in"):
        grammar_report(clip, start=200)
