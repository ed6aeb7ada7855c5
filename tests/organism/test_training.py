import torch

from musicinterp.organism.checkpoint import load_organism, save_organism
from musicinterp.organism.config import OrganismConfig
from musicinterp.organism.prompts import build_tokenizer
from musicinterp.organism.training import heldout_nll, train_organism


def test_short_training_run_lowers_the_loss_and_round_trips(tmp_path):
    torch.manual_seed(0)
    cfg = OrganismConfig(layers=1, heads=2, d_model=32, ffn=64, text_d_model=16, text_layers=1, text_heads=2,
                         clip_frames=40, length_batches=((40, 8), (60, 4)), steps=40, batch_size=8, warmup=5, lr=1e-2)
    model, log = train_organism(cfg, progress=False)
    first, last = sum(log.loss[:2]) / 2, sum(log.loss[-2:]) / 2
    assert last < first - 0.5, log.loss
    save_organism(model, build_tokenizer(), cfg, tmp_path / "org", {"note": "test"})
    handle = load_organism(tmp_path / "org")
    assert handle.n_layers == 1 and handle.codebook_size == 256 and handle.tokenizer is not None
    assert abs(heldout_nll(handle.hf, n_clips=8, n_frames=40) - heldout_nll(model, n_clips=8, n_frames=40)) < 1e-5
