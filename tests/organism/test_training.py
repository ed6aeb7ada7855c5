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


def test_checkpoints_go_to_the_users_folder_never_into_the_package(tmp_path, monkeypatch):
    import pytest

    from musicinterp.organism.checkpoint import DEFAULT_OUT, SHIPPED, organism_out
    from musicinterp.store.errors import InstalledPackageError, StoreOverwriteError

    shipped = {p.name: p.stat().st_mtime_ns for p in SHIPPED.iterdir()}
    cfg = OrganismConfig(layers=1, heads=2, d_model=32, ffn=64, text_d_model=16, text_layers=1, text_heads=2,
                         clip_frames=40, steps=2, batch_size=2, warmup=1)
    model, _ = train_organism(cfg, progress=False)
    for inside in (SHIPPED, SHIPPED / "sub", SHIPPED.parent.parent / "trained"):
        with pytest.raises(InstalledPackageError, match="inside the installed musicinterp package"):
            save_organism(model, build_tokenizer(), cfg, inside)
        with pytest.raises(InstalledPackageError):
            organism_out(inside)
    assert {p.name: p.stat().st_mtime_ns for p in SHIPPED.iterdir()} == shipped  # untouched
    monkeypatch.chdir(tmp_path)
    assert organism_out() == tmp_path / DEFAULT_OUT  # the default: a new folder in the working directory
    first = save_organism(model, build_tokenizer(), cfg, organism_out())
    assert load_organism(first).n_layers == 1
    assert {p.stat().st_mode & 0o777 for p in first.iterdir()} == {0o666 & ~_umask()}
    save_organism(model, build_tokenizer(), cfg, first)  # an organism of ours is replaced
    (first / "notes.txt").write_text("mine")
    with pytest.raises(StoreOverwriteError, match=r"did not write \(notes.txt\)"):
        save_organism(model, build_tokenizer(), cfg, first)
    assert (first / "notes.txt").read_text() == "mine" and load_organism(first).n_layers == 1
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "data.csv").write_text("1,2")
    with pytest.raises(StoreOverwriteError, match="no written_by_musicinterp.json"):
        organism_out(tmp_path / "work")  # refused before any training


def _umask() -> int:
    from musicinterp.store.layout import umask

    return umask()
