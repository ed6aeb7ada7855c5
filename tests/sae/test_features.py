import plotly.graph_objects as go
import pytest
import torch
from sklearn.metrics import roc_auc_score

from musicinterp.sae import SAEConfigError, train
from musicinterp.sae.features import FeatureAnalysis, analyze
from musicinterp.sae.frames import row_clips
from musicinterp.views.sae import decoder_map, feature_page, feature_raster

from .conftest import planted_set


@pytest.fixture(scope="module")
def analysis(frames_store):
    sae = train(frames_store, "resid", layer=1, dict_size=32, k=4, steps=30, batch_size=64, shuffle_buffer=128,
                progress=False)
    return analyze(sae, frames_store, progress=False)


def test_pooled_density_and_histogram_match_a_direct_pass(analysis, frames_store):
    acts = analysis.sae.encode(frames_store.read_frames("resid", 1))
    clip = row_clips(frames_store)
    n = len(analysis.clip_ids)
    want = torch.stack([acts[clip == i].mean(0) for i in range(n)])
    assert torch.allclose(analysis.pooled, want, atol=1e-5)
    assert torch.allclose(analysis.peak, torch.stack([acts[clip == i].max(0).values for i in range(n)]))
    assert torch.allclose(analysis.density, (acts > 0).float().mean(0))
    assert torch.equal(analysis.hist.sum(1), (acts > 0).sum(0).float())
    assert torch.allclose(analysis.clip_activations(analysis.clip_ids[3]), acts[clip == 3])


def test_best_breaks_auc_ties_by_the_class_gap(analysis):
    """Two features separate perfectly (AUC 1): the one whose classes lie further apart comes first."""
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])
    pooled = torch.tensor([[1.0, 0.3, 1.0],   # feature 0: perfect but the classes nearly touch
                           [0.2, 0.1, 1.0],   # feature 1: chance
                           [0.1, 0.3, 0.0],   # feature 2: perfect, far apart
                           [0.0, 0.1, 0.0]])
    auc = {"drums": torch.tensor([1.0, 0.5, 1.0])}
    fa = FeatureAnalysis(sae=analysis.sae, store=None, clip_ids=list("abcd"), labels={"drums": labels},
                         pooled=pooled, peak=pooled, density=torch.ones(3), mean_active=torch.ones(3),
                         hist=torch.zeros(3, 1), auc=auc)
    assert fa.best("drums", 3) == [2, 0, 1]


def test_auc_best_and_table(analysis):
    y = analysis.labels["drums"].numpy()
    for f in range(0, 32, 7):
        want = roc_auc_score(y, analysis.pooled[:, f].numpy())
        assert float(analysis.auc["drums"][f]) == pytest.approx(want, abs=1e-6)
    best = analysis.best("drums", 2)
    assert float(analysis.auc["drums"][best[0]]) == float(analysis.auc["drums"].max())
    table = analysis.table()
    assert len(table) == 32 and {"density", "auc_drums", "auc_bass", "cos_diffmeans_drums", "cos_probe_bass",
                                 "best_concept"} <= set(table.columns)
    assert analysis.top_clips(best[0], 2)[0][1] == pytest.approx(float(analysis.pooled[:, best[0]].max()))
    with pytest.raises(SAEConfigError, match="no binary concept 'tempo'"):
        analysis.best("tempo")
    assert "FeatureAnalysis(32 features x 24 clips" in repr(analysis)


def test_views_and_audio(analysis, tiny_model):
    f = analysis.best("drums")[0]
    page = feature_page(analysis, f, n_clips=2)
    assert isinstance(page, go.Figure) and len(page.data) >= 4
    raster = feature_raster(analysis, analysis.clip_ids[0], n=5)
    assert len(raster.data[0].z) == 5
    audio = analysis.top_clip_audio(f, tiny_model, n=2, clips=planted_set())
    assert [cid for cid, _ in audio] == [cid for cid, _ in analysis.top_clips(f, 2)]
    assert audio[0][1].ndim == 1 and audio[0][1].shape[0] > 0


@pytest.mark.slow
def test_umap_feature_map(analysis):
    fig = decoder_map(analysis, seed=0, n_neighbors=5)
    assert sum(len(t.x) for t in fig.data) == 32
