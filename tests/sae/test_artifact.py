import hashlib
import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp import __version__
from musicinterp.errors import MusicInterpError
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


def test_one_flipped_bit_and_a_huge_header_length_are_named(saved, tmp_path):
    dst = _copy(saved[1], tmp_path)
    raw = bytearray((dst / "sae.safetensors").read_bytes())
    raw[-7] ^= 0x02
    (dst / "sae.safetensors").write_bytes(bytes(raw))
    with pytest.raises(SAEArtifactError, match="sae.safetensors does not match the digest in sae.json"):
        load(dst)
    raw[:8] = (2**63).to_bytes(8, "little")
    (dst / "sae.safetensors").write_bytes(bytes(raw))
    info = json.loads((dst / "sae.json").read_text())
    info["weights_sha256"] = hashlib.sha256(bytes(raw)).hexdigest()  # a header damaged before it was hashed
    (dst / "sae.json").write_text(json.dumps(info))
    with pytest.raises(SAEArtifactError, match="its header length field says 9223372036854775808 bytes"):
        load(dst)


def test_diverged_weights_are_never_saved(saved, tmp_path):
    from musicinterp.store.owned import marker_kind

    sae, out = saved
    assert marker_kind(out) == "sae"
    broken = load(out)
    with torch.no_grad():
        broken.ae.decoder.weight[0, 0] = float("nan")
    with pytest.raises(SAEArtifactError, match=r"sae.safetensors \(not saved\): tensor 'decoder.weight' holds 1 NaN"):
        broken.save(tmp_path / "nan")
    assert not (tmp_path / "nan" / "sae.json").exists()


_values = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**9), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=5), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2),
                                                                                             st.integers(), max_size=2))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_sae_json_loads_or_raises_the_named_error(saved, tmp_path_factory, data):
    """Any field set to any JSON value: a loaded SAE or an SAEArtifactError naming the folder, nothing else
    (a dict_size of 10**9 is refused before a dictionary is allocated)."""
    dst = tmp_path_factory.mktemp("fz")
    for name in ("sae.json", "sae.safetensors"):
        (dst / name).write_bytes((saved[1] / name).read_bytes())
    info = json.loads((dst / "sae.json").read_text())
    for key in data.draw(st.lists(st.sampled_from(sorted(info)), min_size=1, max_size=3)):
        info[key] = data.draw(_values)
    (dst / "sae.json").write_text(json.dumps(info))
    try:
        load(dst)
    except SAEArtifactError as err:
        assert isinstance(err, MusicInterpError) and str(dst) in str(err)
