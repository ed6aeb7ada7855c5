"""Ablation views: references on the bars, heatmaps centred on 0, codebook breakdown, read vs used."""

import pytest
import torch

from musicinterp.ablation.result import SweepResult
from musicinterp.probes import ProbeBank, ProbeConfig
from musicinterp.views.ablation import codebook_breakdown, layer_bars, read_vs_used, sweep_heatmap


def _result(axes=("layer",), shape=(4,), kind="ablation"):
    g = torch.Generator().manual_seed(0)
    labels = {"layer": list(range(shape[0]))}
    if len(axes) == 2:
        labels[axes[1]] = list(range(shape[1]))
    per_cb = torch.rand(*shape, 4, generator=g) + 1.0
    return SweepResult(kind=kind, site="attn_z", method="mean", metric="ce", axes=axes, labels=labels,
                       tensor=per_cb.mean(-1), clean=1.0, corrupt=2.0, baseline=1.0, per_codebook=per_cb,
                       codebooks=["lead", "drums", "brightness", "bass"],
                       clean_per_codebook=torch.ones(4), corrupt_per_codebook=torch.full((4,), 2.0))


def test_layer_bars_carry_the_three_references():
    fig = layer_bars(_result())
    assert fig.data[0].type == "bar" and list(fig.data[0].y) == pytest.approx(_result().tensor.tolist())
    names = [t.name for t in fig.data[1:]]
    assert any(n.startswith("clean (1") for n in names) and any(n.startswith("fully corrupt (2") for n in names)
    assert any(n.startswith("no edit") for n in names)
    norm = layer_bars(_result(), normalized=True)
    assert [t.y[0] for t in norm.data[1:3]] == [1.0, 0.0]


def test_heatmap_is_diverging_and_centred():
    res = _result(("layer", "head"), (4, 8), kind="patching")
    heat = sweep_heatmap(res).data[0]
    assert heat.zmid == 0 and heat.zmin == -heat.zmax
    assert heat.z.shape == (4, 8)
    assert heat.zmax == pytest.approx(float(res.normalized.abs().max()))
    delta = sweep_heatmap(_result(("layer", "frame"), (2, 5)), value="delta").data[0]
    assert delta.z[0][0] == pytest.approx(float(_result(("layer", "frame"), (2, 5)).tensor[0, 0] - 1.0))


def test_codebook_breakdown_shows_change_per_codebook():
    res = _result()
    heat = codebook_breakdown(res).data[0]
    assert list(heat.x) == ["lead", "drums", "brightness", "bass"]
    assert heat.z[2][1] == pytest.approx(float(res.per_codebook[2, 1] - 1.0))
    texts = [t for row in heat.text for t in row]  # one number of decimals, never float noise
    assert all(len(t.split(".")[-1]) == len(texts[0].split(".")[-1]) <= 4 for t in texts)
    with pytest.raises(ValueError, match="needs a one-axis sweep"):
        codebook_breakdown(_result(("layer", "head"), (4, 8)))


def test_read_vs_used_puts_probe_and_sweep_side_by_side():
    n = 32
    bank = ProbeBank(site="attn_z", concept="drums", pooling="mean", grid=(4, 8), weight=torch.zeros(n, 2),
                     bias=torch.zeros(n), val_acc=torch.linspace(0.5, 1.0, n), val_auc=torch.ones(n),
                     train_acc=torch.ones(n), config=ProbeConfig(), normalize=False, n_train=10, n_val=5)
    fig = read_vs_used(_result(("layer", "head"), (4, 8), kind="patching"), bank)
    assert len(fig.data) == 2 and fig.data[0].zmax <= 1.0 and fig.data[1].zmid == 0
    assert "read" in fig.layout.annotations[0].text and "used" in fig.layout.annotations[1].text
