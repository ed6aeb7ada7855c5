import torch

from musicinterp.organism import OrganismWorld, organism_metrics


def test_metrics_of_world_clips_and_of_noise(organism):
    world = OrganismWorld(200)
    # with bass on: the bass roots tell relative keys apart, so the key judge reads each clip's key
    clips = [world.with_concept(world.with_concept(world.sample(s), "bass", 1), "drums", s % 2) for s in range(4)]
    codes = torch.stack([c.codes for c in clips])
    m = organism_metrics(organism, codes, prompt_frames=100)
    assert m.rates["drums"] == 0.5 and m.validity == 1.0
    assert m.key_kept == 1.0 and m.tempo_kept == 1.0  # a world clip continues itself
    noise = torch.randint(0, 256, codes.shape, generator=torch.Generator().manual_seed(0))
    bad = organism_metrics(organism, noise)
    assert bad.validity == 0.0 and bad.key_kept is None
    assert m.nll < 1.0 < bad.nll  # the trained organism predicts its world, not noise
