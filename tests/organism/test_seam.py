"""The organism's world methods against the detectors and the sampler they stand for."""

import pytest
import torch

from musicinterp.organism import CONCEPTS, OrganismWorld, grammar_report, world_validity
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
