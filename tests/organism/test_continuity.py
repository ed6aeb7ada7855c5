import pytest

from musicinterp.organism import OrganismKeyKept, OrganismTempoKept, OrganismWorld


def _major_form(clip):
    tonic = (clip.nuisance.key + 7) % 12  # the lead's tonic (world: midi 60 + key - 5)
    return (tonic + 3) % 12 if clip.nuisance.minor else tonic


@pytest.fixture(scope="module")
def clips():
    world = OrganismWorld(200)
    return world, [world.with_concept(world.sample(s), "bass", 1) for s in range(60)]


def test_a_clip_keeps_its_own_key_and_not_a_tritone_away(clips):
    import torch

    _, cl = clips
    codes = torch.stack([c.codes for c in cl])
    kept = OrganismKeyKept()(codes[..., :100], codes[..., 100:])
    assert kept.rate >= 0.95
    far = [(i, j) for i in range(len(cl)) for j in range(len(cl))
           if (_major_form(cl[i]) - _major_form(cl[j])) % 12 == 6][:10]
    assert far
    moved = OrganismKeyKept()(codes[[i for i, _ in far], :, :100], codes[[j for _, j in far], :, 100:])
    assert moved.rate == 0.0 and (moved.scores < 0.9).all()


def test_tempo_kept_follows_the_tempo_latent(clips):
    import torch

    world, cl = clips
    slow = [world.with_concept(c, "tempo", 0) for c in cl[:8]]
    fast = [world.with_concept(c, "tempo", 1) for c in slow]
    prompt = torch.stack([c.codes[..., :100] for c in slow])
    same = OrganismTempoKept()(prompt, torch.stack([c.codes[..., 100:] for c in slow]))
    faster = OrganismTempoKept()(prompt, torch.stack([c.codes[..., 100:] for c in fast]))
    assert same.present.all() and not faster.present.any()
    assert (faster.scores > 0).all()  # the onset rate rose
