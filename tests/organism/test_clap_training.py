"""Training, saving and loading the organism CLAP (tiny runs; the shipped one is checked in test_seam)."""

import pytest
import torch

from musicinterp.judges import load_clap
from musicinterp.organism.clap_config import OrganismClapConfig
from musicinterp.organism.clap_training import (
    SHIPPED_CLAP,
    clap_out,
    contrastive_loss,
    save_organism_clap,
    train_organism_clap,
)
from musicinterp.store.errors import InstalledPackageError, StoreOverwriteError

TINY = OrganismClapConfig(n_train_clips=8, steps=2, batch_size=4, warmup=1)


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return train_organism_clap(TINY, progress=False)


def test_training_is_seeded(tiny):
    model, log = tiny
    again, log2 = train_organism_clap(TINY, progress=False)
    assert log.loss == log2.loss and len(log.loss) == 2
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True))


def test_saved_checkpoint_loads_like_a_real_clap(tiny, tmp_path):
    model, _ = tiny
    folder = save_organism_clap(model, TINY, tmp_path / "clap", {"training": {"seconds": 1}})
    handle = load_clap(folder, allow_degenerate_text=True)  # two steps: the text side is still untrained
    assert handle.sample_rate == 16000 and handle.window_samples == 64000
    emb = handle.embed_text(["drums", "no drums"])
    assert emb.shape == (2, 64) and torch.allclose(torch.from_numpy(emb).norm(dim=1), torch.ones(2), atol=1e-5)
    save_organism_clap(model, TINY, folder)  # our own folder is replaced
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(StoreOverwriteError):
        clap_out(folder)


def test_refuses_the_installed_package():
    with pytest.raises(InstalledPackageError):
        clap_out(SHIPPED_CLAP)


def test_loss_prefers_matching_pairs():
    targets = torch.eye(3)

    class Fake:
        logit_scale_t = logit_scale_a = torch.tensor(2.0)

        def get_audio_features(self, input_features, is_longer):
            return type("O", (), {"pooler_output": input_features})

        def get_text_features(self, input_ids, attention_mask):
            return type("O", (), {"pooler_output": input_ids})

    good = contrastive_loss(Fake(), torch.eye(3), torch.eye(3), None, targets)
    bad = contrastive_loss(Fake(), torch.eye(3), torch.eye(3).flip(0), None, targets)
    assert good < bad
