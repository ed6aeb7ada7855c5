import json
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.errors import MusicInterpError
from musicinterp.probes import ProbeBank, ProbeConfig, fit_probe_bank
from musicinterp.probes.bank import ProbeBankError
from musicinterp.store.layout import atomic_save_tensors

from .oracle import planted_view


def test_round_trip_keeps_tensors_and_config(tmp_path):
    bank = fit_probe_bank(planted_view(), "drums")
    bank.save(tmp_path / "b")
    again = ProbeBank.load(tmp_path / "b")
    assert torch.equal(again.weight, bank.weight) and torch.equal(again.val_logits, bank.val_logits)
    assert again.config == bank.config and again.grid == (3, 4) and again.meta == bank.meta


def test_older_config_fields_are_dropped_on_load(tmp_path):
    bank = fit_probe_bank(planted_view(), "drums")
    bank.save(tmp_path / "b")
    info = json.loads((tmp_path / "b" / "probes.json").read_text())
    info["config"]["direct_max_dim"] = 256  # a field of an earlier solver
    (tmp_path / "b" / "probes.json").write_text(json.dumps(info))
    assert ProbeBank.load(tmp_path / "b").config == bank.config


def test_to_pandas_one_row_per_head():
    bank = fit_probe_bank(planted_view(), "drums")
    df = bank.to_pandas()
    assert list(df.columns) == ["layer", "head", "val_acc", "auc", "train_acc", "n_train", "n_val"]
    assert len(df) == 12 and df["layer"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert df["head"].tolist() == [0, 1, 2, 3] * 3
    row = df[(df["layer"] == 1) & (df["head"] == 2)].iloc[0]
    assert np.isclose(row.val_acc, bank.accuracy_grid()[1, 2].item())
    assert np.isclose(row.auc, bank.auc_grid()[1, 2].item())
    assert (df.n_train == bank.n_train).all() and (df.n_val == bank.n_val).all()


def test_to_pandas_per_layer_site_has_no_head_column():
    view = planted_view()
    view.x = view.x[:, :, 2]
    bank = fit_probe_bank(view, "drums", "resid", config=ProbeConfig(kind="linear"))
    df = bank.to_pandas()
    assert "head" not in df.columns and df["layer"].tolist() == [0, 1, 2]


def test_repr_is_short_and_names_the_best_head():
    bank = fit_probe_bank(planted_view(), "drums")
    text = repr(bank)
    assert "\n" not in text and len(text) < 200 and "tensor" not in text
    acc = bank.accuracy_grid()[1, 2].item()
    assert "'drums' @ attn_z/mean" in text and "grid 3 x 4" in text
    assert f"best head (1, 2) val acc {acc:.3f}" in text and f"n train {bank.n_train} / val {bank.n_val}" in text


# ------------------------------------------------------------------ damaged files
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bank") / "b"
    fit_probe_bank(planted_view(), "drums").save(folder)
    return folder


def _copy(saved, folder, info=None, tensors=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "probes.safetensors").write_bytes((saved / "probes.safetensors").read_bytes())
    data = json.loads((saved / "probes.json").read_text())
    if tensors is not None:
        data["tensors_sha256"] = atomic_save_tensors(folder / "probes.safetensors", tensors).sha256
    data.update(info or {})
    (folder / "probes.json").write_text(json.dumps(data))
    return folder


def test_flipped_bit_missing_files_and_bad_fields_are_named(saved, tmp_path):
    folder = _copy(saved, tmp_path / "a")
    raw = bytearray((folder / "probes.safetensors").read_bytes())
    raw[-5] ^= 0x10
    (folder / "probes.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ProbeBankError, match=r"a/probes.safetensors: fails its SHA-256 checksum"):
        ProbeBank.load(folder)
    with pytest.raises(FileNotFoundError, match="missing probes.json"):  # still a FileNotFoundError too
        ProbeBank.load(tmp_path / "nowhere")
    for field, value, match in (("grid", [3, "4"], "field 'grid' must be"), ("pooling", "max", "field 'pooling'"),
                                ("n_val", -1, "field 'n_val'"), ("concept", "../x", "field 'concept': '../x'"),
                                ("config", {"kind": "svm"}, "field 'config'"), ("grid", [4, 4], r"expected \[16, features\]")):
        with pytest.raises(ProbeBankError, match=match):
            ProbeBank.load(_copy(saved, tmp_path / field, {field: value}))


def test_non_finite_weights_are_refused_but_nan_metrics_are_kept(saved, tmp_path):
    bank = ProbeBank.load(saved)
    tensors = {"weight": bank.weight.clone(), "bias": bank.bias, "val_acc": bank.val_acc,
               "val_auc": torch.full_like(bank.val_auc, float("nan")), "train_acc": bank.train_acc,
               "val_logits": bank.val_logits, "val_labels": bank.val_labels}
    assert ProbeBank.load(_copy(saved, tmp_path / "ok", tensors=tensors)).val_auc.isnan().all()
    tensors["weight"][2, 0] = float("nan")
    with pytest.raises(ProbeBankError, match=r"nan/probes.safetensors: tensor 'weight' holds 1 NaN"):
        ProbeBank.load(_copy(saved, tmp_path / "nan", tensors=tensors))
    bank.weight = tensors["weight"]
    with pytest.raises(ProbeBankError, match=r"\(not saved\): tensor 'weight' holds 1 NaN"):
        bank.save(tmp_path / "never")
    assert not (tmp_path / "never" / "probes.json").exists()


_values = st.one_of(st.none(), st.booleans(), st.integers(-2, 70000), st.floats(allow_nan=True), st.text(max_size=4),
                    st.lists(st.integers(-1, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers()))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bank_files_load_or_raise_the_named_error(saved, tmp_path_factory, data):
    info = json.loads((saved / "probes.json").read_text())
    for key in data.draw(st.lists(st.sampled_from(sorted(info)), max_size=3)):
        if data.draw(st.booleans()):
            info.pop(key, None)
        else:
            info[key] = data.draw(_values)
    folder = tmp_path_factory.mktemp("fz")
    (folder / "probes.json").write_text(json.dumps(info))
    raw = bytearray((saved / "probes.safetensors").read_bytes())
    if data.draw(st.booleans()):
        raw[data.draw(st.integers(0, 200))] = data.draw(st.integers(0, 255))
    (folder / "probes.safetensors").write_bytes(bytes(raw))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a bank without a checksum loads with a warning
            ProbeBank.load(folder)
    except ProbeBankError as err:
        assert isinstance(err, MusicInterpError) and "probes." in str(err)
