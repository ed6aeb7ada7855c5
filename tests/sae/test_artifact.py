import json

import pytest
import torch

from musicinterp import __version__
from musicinterp.sae import SAEArtifactError, load, train
from musicinterp.store import StoreModelMismatchError

FAST = {"dict_size": 32, "k": 4, "steps": 12, "batch_size": 64, "shuffle_buffer": 128, "progress": False}


@pytest.fixture(scope="module")
def saved(frames_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "sae"
    return train(frames_store, "attn_z", layer=1, head=2, out=out, **FAST), out


def test_round_trip_keeps_weights_and_records(saved, tiny_model):
    sae, out = saved
    info = json.loads((out / "sae.json").read_text())
    assert info["architecture"] == "topk" and info["d_in"] == tiny_model.head_dim and info["dict_size"] == 32
    assert info["k"] == 4 and info["site"] == "attn_z" and info["layer"] == 1 and info["head"] == 2
    assert info["model_fingerprint"] == tiny_model.fingerprint and info["package_version"] == __version__
    assert info["norm_factor"] == sae.norm_factor and info["training"]["steps"] == 12
    assert len(info["store_digest"]) == 16
    again = load(out, tiny_model)
    for k, v in sae.ae.state_dict().items():
        assert torch.equal(again.ae.state_dict()[k], v)
    x = torch.randn(5, tiny_model.head_dim)
    assert torch.equal(again.encode(x), sae.encode(x))
    assert "attn_z[L1 H2]" in repr(again)


def test_other_model_is_refused(saved, other_model):
    with pytest.raises(StoreModelMismatchError, match="fingerprint"):
        load(saved[1], other_model)


def _copy(out, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(out, dst)
    return dst


def test_damaged_and_missing_files_are_named(saved, tmp_path):
    dst = _copy(saved[1], tmp_path)
    data = (dst / "sae.safetensors").read_bytes()
    (dst / "sae.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(SAEArtifactError, match="sae.safetensors does not match"):
        load(dst)
    (dst / "sae.safetensors").unlink()
    with pytest.raises(SAEArtifactError, match="missing sae.safetensors"):
        load(dst)
    (dst / "sae.json").unlink()
    with pytest.raises(SAEArtifactError, match="missing sae.json"):
        load(dst)
    with pytest.raises(SAEArtifactError, match="not a folder"):
        load(tmp_path / "nowhere")


def test_damaged_fields_are_named(saved, tmp_path):
    dst = _copy(saved[1], tmp_path)
    info = json.loads((dst / "sae.json").read_text())
    (dst / "sae.json").write_text("{not json")
    with pytest.raises(SAEArtifactError, match="sae.json is not valid JSON"):
        load(dst)
    del info["norm_factor"]
    (dst / "sae.json").write_text(json.dumps(info))
    with pytest.raises(SAEArtifactError, match="lacks fields norm_factor"):
        load(dst)
    info["norm_factor"], info["architecture"] = 1.0, "relu"
    (dst / "sae.json").write_text(json.dumps(info))
    with pytest.raises(SAEArtifactError, match="architecture is 'relu'"):
        load(dst)
