import socket

import pytest
import torch

from musicinterp import CheckpointNotFoundError, load_model
from musicinterp.models.shapes import REAL_SHAPES


@pytest.mark.parametrize("name", ["small", "medium", "large"])
def test_real_shapes_build_on_meta(name):
    model = load_model(f"random-{name}", device="meta", dtype="bfloat16")
    shape = REAL_SHAPES[name]
    assert (model.n_layers, model.n_heads, model.d_model, model.head_dim) == (
        shape.layers, shape.heads, shape.d_model, 64)
    assert model.dtype == torch.bfloat16 and model.device.type == "meta"
    assert model.n_codebooks == 4 and model.codebook_size == 2048 and model.frame_rate == 50
    layer = model.hf.decoder.model.decoder.layers[0]
    assert layer.self_attn.out_proj.in_features == shape.heads * 64


def test_missing_checkpoint_is_a_clear_error_without_network(monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(CheckpointNotFoundError, match="never downloads") as info:
        load_model("facebook/musicgen-does-not-exist")
    assert "facebook/musicgen-does-not-exist" in str(info.value)
    with pytest.raises(CheckpointNotFoundError, match=str(tmp_path / "nope")):
        load_model(str(tmp_path / "nope"))


def test_local_checkpoint_round_trip(tiny, tmp_path):
    tiny.hf.save_pretrained(tmp_path / "ckpt")
    loaded = load_model(str(tmp_path / "ckpt"))
    assert loaded.source == "checkpoint" and loaded.fingerprint == tiny.fingerprint


def test_unknown_dtype_is_named():
    with pytest.raises(ValueError, match="float8"):
        load_model("tiny", dtype="float8")
