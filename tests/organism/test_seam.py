"""The organism's world methods against the detectors and the sampler they stand for."""

import pytest
import torch

from musicinterp.errors import InputError
from musicinterp.organism import CONCEPTS, OrganismWorld, grammar_report, world_validity
from musicinterp.organism import vocab as V
from musicinterp.organism.world import Latents
from musicinterp.world import WorldError


def test_validity_and_grammar_are_the_detectors(organism):
    world = organism.world
    codes, _ = OrganismWorld(80).batch(range(6))
    codes[2, 1, 10] = 255  # not a drum token
    assert torch.equal(world.validity(codes), world_validity(codes))
    assert world.validity(codes).tolist() == [True, True, False, True, True, True]
    got, want = world.grammar_report(codes), grammar_report(codes)
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_names_words_and_judges():
    world = OrganismWorld()
    assert world.codebook_names(4) == ["lead", "drums", "brightness", "bass"]
    assert world.codebook_names(6) == ["lead", "drums", "brightness", "bass", "cb4", "cb5"]
    assert world.words("bass") == ("bass", "no bass") and world.exact
    assert [j.concept for j in world.judges()] == list(CONCEPTS)
    assert [j.name for j in world.continuity_judges()] == ["kept:key", "kept:tempo"]
    with pytest.raises(WorldError, match="target: unknown concept 'piano' in the organism world"):
        world.tasks("piano")


def test_clips_are_seeded_world_clips():
    world = OrganismWorld()
    a, b, c = world.clips(3, n_frames=60, seed=1), world.clips(3, n_frames=60, seed=1), world.clips(3, n_frames=60)
    assert a.shape == (3, 4, 60) and torch.equal(a, b) and not torch.equal(a, c)
    assert world_validity(a).all()


def test_clap_judges_and_measures_come_from_the_shipped_clap(organism):
    from musicinterp.judges import ClapConceptJudge, load_clap
    from musicinterp.judges.clap import locate_clap
    from musicinterp.measures import ClapEmbedder
    from musicinterp.organism.clap_training import SHIPPED_CLAP

    assert locate_clap("organism") == SHIPPED_CLAP
    assert sum(f.stat().st_size for f in SHIPPED_CLAP.iterdir()) < 10_000_000
    world = organism.world
    judges = world.clap_judges()
    assert [j.name for j in judges] == [f"clap:{c}" for c in CONCEPTS]
    assert all(isinstance(j, ClapConceptJudge) for j in judges)
    assert judges[0].positive_prompts[0] == "drums" and judges[0].negative_prompts[0] == "no drums"
    assert [j.concept for j in world.clap_judges(nuisance=True)][4:] == ["dynamics", "mode"]
    (embedder,) = world.clap_measures(organism)
    assert isinstance(embedder, ClapEmbedder) and embedder.sample_rate == 32000 and embedder.target_rate == 16000
    codes = world.clips(4, n_frames=200, seed=3)
    emb = embedder(codes)
    assert emb.shape == (4, 64) and abs(float((emb ** 2).sum(1).mean()) - 1) < 1e-6
    assert load_clap("organism").text_spread < 0.99


def test_onset_step_lands_each_voice_on_a_frame_where_the_world_starts_its_notes():
    world = OrganismWorld(400)
    clips = [world.sample(s, Latents(drums=0, tempo=s % 2, timbre=0, bass=1)) for s in range(12)]
    bass = torch.stack([c.codes[V.BASS] for c in clips])
    for prompt_frames in (0, 100, 150, 200, 224, 250):
        step = world.onset_step("bass", prompt_frames)
        assert V.BASS <= step < V.BASS + 32
        frame = prompt_frames + step - V.BASS  # MusicGen emits codebook k's token k steps late
        assert ((bass[:, frame] >= 1) & (bass[:, frame] < V.BASS_ONSET_MAX)).all()  # a bass note starts here
    for prompt_frames, after in ((0, 32), (0, 33), (200, 24), (200, 25), (150, 70)):
        step = world.onset_step("bass", prompt_frames, after=after)
        assert after <= step - V.BASS < after + 32  # the first grid frame not before `after`
        frame = prompt_frames + step - V.BASS
        assert ((bass[:, frame] >= 1) & (bass[:, frame] < V.BASS_ONSET_MAX)).all()
    assert world.onset_frame("bass", 200) == (V.BASS, 24)  # frame 224 = 7 bars of 32 frames
    assert world.onset_step("drums", 0, after=32) == 33 and world.onset_step("drums", 0, after=1) == 33
    assert world.onset_step("tempo", 200) == 24 and world.onset_step("drums", 200) == 25
    with pytest.raises(WorldError):
        world.onset_step("loudness", 200)
    with pytest.raises(InputError):
        world.onset_step("bass", -1)
    with pytest.raises(InputError, match="after"):
        world.onset_step("bass", 0, after=-1)
