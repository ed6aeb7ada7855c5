import pytest
import torch

from musicinterp.sae.architectures import make_trainer
from musicinterp.sae.checkpoint import load_checkpoint, read_checkpoint_meta, save_checkpoint
from musicinterp.sae.config import TrainConfig
from musicinterp.sae.errors import SAEArtifactError


def _trainer(seed):
    return make_trainer(TrainConfig(dict_size=16, k=2, steps=20, batch_size=8, seed=seed).resolved(), 6)


def test_a_restored_trainer_continues_exactly_like_the_saved_one(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(8, 6)
    a = _trainer(0)
    for step in range(3):
        a.update(step, x)
    save_checkpoint(tmp_path / "ck.safetensors", a, 3, {"history": [{"step": 3, "loss": torch.tensor(0.5)}]})
    after = torch.rand(3)
    a.update(3, x)
    b = _trainer(1)  # other initial weights: everything must come from the file
    meta = load_checkpoint(tmp_path / "ck.safetensors", b)
    assert meta["step"] == 3 and meta["history"] == [{"step": 3, "loss": 0.5}]
    assert torch.equal(torch.rand(3), after)  # the RNG state came back
    b.update(3, x)
    for (name, pa), pb in zip(a.ae.state_dict().items(), b.ae.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert torch.equal(a.num_tokens_since_fired, b.num_tokens_since_fired)


def test_a_damaged_checkpoint_is_named(tmp_path):
    path = tmp_path / "ck.safetensors"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(SAEArtifactError, match="is damaged.*resume=False"):
        read_checkpoint_meta(path)
