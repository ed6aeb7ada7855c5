"""SAE views: histograms, curves, maps and rasters hold the numbers given."""

import math

import numpy as np
import pytest
import torch

from musicinterp.views.sae import (
    density_histogram,
    evaluation_bars,
    feature_map,
    feature_page,
    frame_raster,
    training_curve,
)


def test_density_histogram_of_log_density_with_dead_features_counted():
    fig = density_histogram(torch.tensor([0.0, 0.1, 0.01, 0.0, 1.0]), title="layer 3")
    assert list(fig.data[0].x) == pytest.approx([-1.0, -2.0, 0.0])
    assert fig.layout.title.text == "layer 3 (2 of 5 features dead)"
    assert fig.layout.xaxis.title.text.startswith("log10 fraction") and fig.layout.yaxis.title.text == "features"


def test_training_curve_three_series_two_axes():
    history = [{"step": 0, "fve": 0.1, "dead": 0.5, "l0": 30.0}, {"step": 100, "fve": 0.8, "dead": 0.25, "l0": 12.0}]
    fig = training_curve(history)
    assert [t.name for t in fig.data] == ["FVE", "dead fraction", "L0"]
    assert all(list(t.x) == [0, 100] for t in fig.data)
    assert [list(t.y) for t in fig.data] == [[0.1, 0.8], [0.5, 0.25], [30.0, 12.0]]
    assert [t.yaxis for t in fig.data] == ["y", "y", "y2"]
    assert fig.layout.yaxis.title.text == "fraction" and fig.layout.yaxis2.title.text == "L0"


def test_feature_map_one_trace_per_concept_sized_by_density():
    xy = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    fig = feature_map(xy, ["drums", "bass", "drums"], torch.tensor([0.9, 0.7, 0.8]),
                      torch.tensor([1e-2, 1.0, 1e-7]))
    assert [t.name for t in fig.data] == ["bass", "drums"]
    bass, drums = fig.data
    assert list(bass.x) == [2.0] and list(bass.y) == [3.0]
    assert list(drums.x) == [0.0, 4.0] and list(drums.y) == [1.0, 5.0]
    # size 4 + 3 (log10 density + 6), clamped to 3..22 (density floored at 1e-6)
    assert list(drums.marker.size) == pytest.approx([16.0, 4.0]) and list(bass.marker.size) == pytest.approx([22.0])
    np.testing.assert_allclose(np.asarray(drums.customdata, dtype=float), [[0, 0.9, 1e-2], [2, 0.8, 1e-7]], rtol=1e-6)


def test_feature_page_panels():
    page = {"feature": 7, "density": 0.05, "best_concept": "drums", "best_auc": 0.93,
            "hist_edges": [0.01, 0.1, 1.0, 10.0, 100.0], "hist_counts": [0, 5, 2, 0],
            "auc": {"drums": 0.93, "bass": 0.4},
            "top_clips": [{"clip_id": "c1", "pooled": 1.5, "activation": [0.0, 2.0, 1.0]}],
            "cosines": {"diffmeans": {"drums": 0.6}, "probe": {"drums": 0.4, "bass": -0.1}}}
    fig = feature_page(page)
    hist, auc, clip, diffmeans, probe = fig.data
    # log-spaced bins drawn at log10 of their centres, trimmed to the bins that hold frames
    assert list(hist.x) == pytest.approx([-0.5, 0.5]) and list(hist.y) == [5, 2]
    assert list(fig.layout.xaxis.ticktext) == ["0.1", "1", "10"] and list(fig.layout.xaxis.tickvals) == [-1, 0, 1]
    assert list(auc.x) == ["drums", "bass"] and list(auc.y) == [0.93, 0.4]
    assert list(clip.y) == [0.0, 2.0, 1.0] and clip.name == "c1 (mean 1.50)"
    assert list(probe.x) == ["drums", "bass"] and list(probe.y) == [0.4, -0.1]
    assert list(diffmeans.y) == [0.6]
    assert fig.layout.title.text == "Feature 7: density 0.0500, best concept drums (AUC 0.930)"
    empty = feature_page({**page, "hist_counts": [0, 0, 0, 0]}).data[0]
    assert list(empty.y) == [0.0]


def test_frame_raster_features_by_frames():
    acts = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])  # (frames=3, features=2)
    fig = frame_raster(acts, [5, 9], "clip-a", labels=["drums", "bass"])
    (hm,) = fig.data
    np.testing.assert_allclose(np.asarray(hm.z), [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]])
    assert list(hm.y) == ["f5 (drums)", "f9 (bass)"]
    assert fig.layout.title.text == "SAE features over time: clip clip-a" and fig.layout.xaxis.title.text == "frame"
    assert list(frame_raster(acts, [5, 9], "c").data[0].y) == ["f5", "f9"]


def test_evaluation_bars_per_codebook():
    per = [{"codebook": "cb0", "ce_loss_score": 0.9, "kl_div_score": 0.8},
           {"codebook": "cb1", "ce_loss_score": 0.5, "kl_div_score": math.nan}]
    ce, kl = evaluation_bars(per).data
    assert list(ce.x) == ["cb0", "cb1"] and list(ce.y) == [0.9, 0.5]
    assert kl.y[0] == 0.8 and math.isnan(kl.y[1])
