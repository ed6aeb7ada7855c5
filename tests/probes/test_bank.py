import json

import numpy as np
import torch

from musicinterp.probes import ProbeBank, ProbeConfig, fit_probe_bank

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
