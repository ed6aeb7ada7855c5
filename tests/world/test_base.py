import pytest
import torch

from musicinterp.world import World, WorldError


def test_default_strength_is_the_middle_of_the_sweep():
    world = World()
    assert world.default_strength("iti") == 5.0  # of 1, 2, 5, 10
    assert world.default_strength("smitin-s5") == 75.0  # a variant with a sweep of its own
    assert world.default_strength("iti-last@3") == 5.0  # other variants fall back to their family
    assert world.default_strength("regression") == 0.15
    with pytest.raises(WorldError, match="no recommended sweep for 'pca'"):
        world.default_strength("pca")
    world.sweeps["iti"].append(99.0)  # a copy: the defaults stay
    assert world.default_strength("iti") == 5.0


def test_a_bare_world_knows_nothing_and_says_what_to_do_instead():
    world = World()
    assert world.codebook_names(3) == ["cb0", "cb1", "cb2"]
    assert world.judges() == [] and world.default_judges() == [] and world.validity(torch.zeros(1, 4, 5)) is None
    assert world.concept_rates(torch.zeros(2, 4, 5, dtype=torch.long)) == {}
    assert world.onset_frame("drums", 200) is None and world.onset_step("drums", 200) is None  # no known note grid
    with pytest.raises(WorldError, match="mi.compare.text_task"):
        world.tasks("drums")
    with pytest.raises(WorldError, match="pass codes or audio of your own"):
        world.clips(2)
    with pytest.raises(WorldError, match="mi.ablation.clip_pair"):
        world.clip_pair(None, "drums")
    with pytest.raises(WorldError, match="concept: unknown concept 'drums' in the world world; known: none"):
        world.check_concept("drums")
    assert repr(world) == "World('world', concepts=[], estimated judges)"
