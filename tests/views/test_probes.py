"""Probe views: heatmap cells, hover data and curves hold the bank's own numbers."""

import numpy as np
import pytest
import torch

from musicinterp.probes import ProbeBank, ProbeConfig
from musicinterp.views.probes import concept_grid, head_heatmap, layer_accuracy_curve

ACC = [[0.6, 0.9, 0.7],
       [0.8, 0.5, 0.8]]  # 2 layers x 3 heads
AUC = [[0.61, 0.91, 0.71],
       [0.81, 0.51, 0.82]]


def _bank(acc, auc, concept="drums", site="attn_z", pooling="mean", n_val=10) -> ProbeBank:
    acc, auc = torch.tensor(acc), torch.tensor(auc)
    g = acc.numel()
    return ProbeBank(site=site, concept=concept, pooling=pooling, grid=tuple(acc.shape), weight=torch.zeros(g, 2),
                     bias=torch.zeros(g), val_acc=acc.reshape(-1), val_auc=auc.reshape(-1), train_acc=acc.reshape(-1),
                     config=ProbeConfig(), normalize=False, n_train=40, n_val=n_val)


def test_head_heatmap_cells_and_hover_data():
    fig = head_heatmap(_bank(ACC, AUC))
    (hm,) = fig.data
    np.testing.assert_allclose(np.asarray(hm.z), ACC, rtol=1e-6)
    custom = np.asarray(hm.customdata)  # (layers, heads, [layer, head, auc, n])
    assert custom.shape == (2, 3, 4)
    assert custom[..., 0].tolist() == [[0, 0, 0], [1, 1, 1]]
    assert custom[..., 1].tolist() == [[0, 1, 2], [0, 1, 2]]
    np.testing.assert_allclose(custom[..., 2], AUC, rtol=1e-6)
    assert (custom[..., 3] == 10).all()
    assert (hm.zmin, hm.zmax) == pytest.approx((0.5, 0.9))  # lowest accuracy (0.5) to highest
    assert fig.layout.xaxis.title.text == "head" and fig.layout.yaxis.title.text == "layer"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.title.text == "drums: probe accuracy per head (attn_z, mean frames)"


def test_sorted_heatmap_orders_each_layer_and_keeps_the_head_numbers():
    fig = head_heatmap(_bank(ACC, AUC), sort=True, zrange=(0.0, 1.0))
    (hm,) = fig.data
    np.testing.assert_allclose(np.asarray(hm.z), [[0.9, 0.7, 0.6], [0.8, 0.8, 0.5]], rtol=1e-6)
    custom = np.asarray(hm.customdata)
    assert custom[..., 1].tolist() == [[1, 2, 0], [0, 2, 1]]  # ties keep head order
    np.testing.assert_allclose(custom[..., 2], [[0.91, 0.71, 0.61], [0.81, 0.82, 0.51]], rtol=1e-6)
    assert (hm.zmin, hm.zmax) == (0.0, 1.0)
    assert fig.layout.xaxis.title.text == "head (sorted by accuracy)"
    assert fig.layout.title.text.endswith("heads sorted per layer")


def test_colour_range_reaches_down_to_chance():
    (hm,) = head_heatmap(_bank([[0.7, 0.75]], [[0.7, 0.8]])).data
    assert (hm.zmin, hm.zmax) == pytest.approx((0.5, 0.75))


def test_layer_curve_one_line_per_bank():
    resid = _bank([0.55, 0.75, 0.95], [0.6, 0.8, 0.99], site="resid", n_val=8)
    bass = _bank([0.5, 0.625, 0.875], [0.5, 0.7, 0.9], concept="bass", site="resid", pooling="last")
    fig = layer_accuracy_curve([resid, bass])
    assert [t.name for t in fig.data] == ["drums (mean)", "bass (last)"]
    assert list(fig.data[0].x) == [0, 1, 2]
    assert list(fig.data[0].y) == pytest.approx([0.55, 0.75, 0.95])
    assert list(fig.data[1].y) == pytest.approx([0.5, 0.625, 0.875])
    np.testing.assert_allclose(np.asarray(fig.data[0].customdata), [[0.6, 8], [0.8, 8], [0.99, 8]], rtol=1e-6)
    assert fig.layout.xaxis.title.text == "layer" and fig.layout.yaxis.title.text == "validation accuracy"


def test_heatmap_and_curve_refuse_the_other_kind_of_bank():
    with pytest.raises(ValueError, match="needs a head site"):
        head_heatmap(_bank([0.5, 0.6], [0.5, 0.6], site="resid"))
    with pytest.raises(ValueError, match="per head; use head_heatmap"):
        layer_accuracy_curve([_bank(ACC, AUC)])


def test_concept_grid_shares_one_colour_range():
    drums = _bank(ACC, AUC)
    bass = _bank([[0.95, 0.55, 0.6], [0.6, 0.6, 0.6]], AUC, concept="bass", pooling="last")
    keys = _bank([[0.4, 0.45, 0.5], [0.5, 0.5, 0.5]], AUC, concept="key")
    fig = concept_grid([drums, bass, keys], cols=2)
    assert len(fig.data) == 3
    assert [(t.zmin, t.zmax) for t in fig.data] == [pytest.approx((0.4, 0.95))] * 3
    assert [t.showscale for t in fig.data] == [True, False, False]
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y"), ("x2", "y2"), ("x3", "y3")]
    assert [a.text for a in fig.layout.annotations] == ["drums (mean frames)", "bass (last frames)", "key (mean frames)"]
    np.testing.assert_allclose(np.asarray(fig.data[1].z), [[0.95, 0.6, 0.55], [0.6, 0.6, 0.6]], rtol=1e-6)
    # axis titles on the outer panels only: x under the lowest panel of each column, y left of each row
    assert fig.layout.xaxis.title.text is None and fig.layout.xaxis3.title.text == "head (sorted per layer)"
    assert fig.layout.xaxis2.title.text == "head (sorted per layer)" and fig.layout.yaxis2.title.text is None
    assert fig.layout.yaxis.title.text == fig.layout.yaxis3.title.text == "layer"
