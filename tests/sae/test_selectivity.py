import pytest
import torch
from sklearn.metrics import roc_auc_score

from musicinterp.sae import train
from musicinterp.sae.selectivity import concept_directions, cosines, rank_auc


def test_rank_auc_matches_scikit_learn_with_ties():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(60, 7, generator=g).clamp_min(0)  # many exact zeros: ties
    scores[:, 3] = 0.0  # a silent feature: AUC 0.5
    labels = (torch.rand(60, generator=g) > 0.4).float()
    got = rank_auc(scores, labels)
    want = [roc_auc_score(labels.numpy(), scores[:, j].numpy()) for j in range(7)]
    assert torch.allclose(got, torch.tensor(want, dtype=torch.float32), atol=1e-6)
    assert got[3] == 0.5
    assert torch.isnan(rank_auc(scores, torch.ones(60))).all()


def test_directions_and_cosines(frames_store):
    sae = train(frames_store, "resid", layer=1, dict_size=16, k=4, steps=12, batch_size=64, shuffle_buffer=128,
                progress=False)
    dirs = concept_directions(sae, frames_store, ["drums", "bass"])
    st = frames_store.stats("resid")
    v = (st.class_mean("drums", 1) - st.class_mean("drums", 0))[1].float()
    assert torch.allclose(dirs["diffmeans"]["drums"], v / v.norm(), atol=1e-6)
    assert dirs["probe"]["drums"].norm() == pytest.approx(1.0, abs=1e-5)
    cos = cosines(sae, dirs)
    want = torch.nn.functional.cosine_similarity(sae.directions.T, v[None], dim=1)
    assert torch.allclose(cos["diffmeans"]["drums"], want, atol=1e-5)
