import torch

from musicinterp.organism import OrganismWorld, detect


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
