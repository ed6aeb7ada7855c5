"""SweepResult against hand-made cell values: normalised scores, ranking, the tidy table and the files."""

import json

import pytest
import torch

from musicinterp.ablation.result import SweepResult, normalise
from musicinterp.errors import MissingFileError


def _result(**kw):
    args = dict(kind="ablation", site="attn_z", method="zero", metric="ce", axes=("layer", "head"),
                labels={"layer": [0, 1], "head": [0, 1, 2]}, tensor=torch.tensor([[1.0, 2, 3], [4, 5, 6]]),
                clean=6.0, corrupt=0.0, baseline=6.0)
    args.update(kw)
    return SweepResult(**args)


def test_normalised_score():
    v = torch.tensor([0.0, 1.0, 2.0])
    torch.testing.assert_close(normalise(v, clean=2.0, corrupt=0.0), torch.tensor([0.0, 0.5, 1.0]))
    assert torch.isnan(normalise(v, clean=1.0, corrupt=1.0)).all()


def test_normalised_score_with_per_codebook_references():
    # clean above corrupt on codebook 0, below on codebook 1 (a metric where lower is better)
    got = normalise(torch.tensor([[3.0, 4.0], [5.0, 1.0]]), torch.tensor([5.0, 0.0]), torch.tensor([1.0, 4.0]))
    torch.testing.assert_close(got, torch.tensor([[0.5, 0.0], [1.0, 0.75]]))


def test_top_cells_by_score_and_by_value():
    res = _result(clean=7.0, corrupt=1.0)  # normalised = (v - 1) / 6
    assert res.shape == (2, 3)
    torch.testing.assert_close(res.normalized, (res.tensor - 1) / 6)
    top = res.top(2)
    assert [t[0] for t in top] == [(1, 2), (1, 1)]
    assert top[0][1] == pytest.approx(5 / 6) and top[1][1] == pytest.approx(4 / 6)
    assert res.top(1, largest=False) == [((0, 0), 0.0)]
    assert res.top(1, by="value") == [((1, 2), 6.0)]


def test_top_skips_undefined_scores():
    res = _result(tensor=torch.tensor([[1.0, float("nan"), 3.0], [float("nan"), 5.0, 2.0]]))
    assert [t[0] for t in res.top(4)] == [(1, 1), (0, 2), (1, 2), (0, 0)]
    assert [t[0] for t in res.top(4, largest=False)] == [(0, 0), (1, 2), (0, 2), (1, 1)]


def test_tidy_table_one_row_per_cell_with_per_codebook_values():
    per_cb = torch.arange(12, dtype=torch.float32).reshape(2, 3, 2)
    res = _result(per_codebook=per_cb, codebooks=["cb0", "cb1"], clean_per_codebook=torch.tensor([10.0, 11.0]),
                  corrupt_per_codebook=torch.tensor([0.0, 1.0]))
    df = res.to_pandas()
    assert len(df) == 6
    row = df[(df["layer"] == 1) & (df["head"] == 0)].iloc[0]
    assert row["value"] == 4.0 and row["normalized"] == pytest.approx(4 / 6)
    assert row["value_cb0"] == 6.0 and row["value_cb1"] == 7.0
    assert (row["site"], row["method"], row["metric"]) == ("attn_z", "zero", "ce")
    assert res.normalized_per_codebook[1, 0].tolist() == pytest.approx([0.6, 0.6])
    assert _result().normalized_per_codebook is None


def test_save_and_load_round_trip(tmp_path):
    res = _result(per_codebook=torch.ones(2, 3, 4), codebooks=[f"cb{i}" for i in range(4)],
                  clean_per_codebook=torch.full((4,), 2.0), corrupt_per_codebook=torch.zeros(4),
                  info={"rows": "both", "clips": 2})
    res.save(tmp_path / "sweep")
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text())["axes"] == ["layer", "head"]
    back = SweepResult.load(tmp_path / "sweep")
    assert back.axes == ("layer", "head") and back.labels == res.labels and back.info == res.info
    assert (back.clean, back.corrupt, back.baseline) == (6.0, 0.0, 6.0)
    for name in ("tensor", "per_codebook", "clean_per_codebook", "corrupt_per_codebook"):
        assert torch.equal(getattr(back, name), getattr(res, name))
    plain = SweepResult.load(_result().save(tmp_path / "plain"))
    assert plain.per_codebook is None and torch.equal(plain.tensor, res.tensor)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(MissingFileError, match="missing sweep.json"):
        SweepResult.load(tmp_path)
    _result().save(tmp_path / "s")
    (tmp_path / "s" / "sweep.safetensors").unlink()
    with pytest.raises(MissingFileError, match="missing sweep.safetensors"):
        SweepResult.load(tmp_path / "s")


def test_repr_names_the_best_cell():
    text = repr(_result(clean=7.0, corrupt=1.0))
    assert text.startswith("SweepResult(ablation zero at attn_z, layer 2 x head 3, metric ce")
    assert "best layer=1, head=2 -> 0.833 normalised" in text
