import torch
from sklearn.metrics import roc_auc_score

from musicinterp.probes import batched_auc


def test_auc_matches_sklearn_with_ties():
    g = torch.Generator().manual_seed(2)
    scores = torch.randn(4, 50, generator=g)
    scores[1] = torch.round(scores[1])  # many ties
    labels = torch.tensor([i % 3 == 0 for i in range(50)]).long()
    ours = batched_auc(scores, labels)
    for k in range(4):
        assert abs(ours[k].item() - roc_auc_score(labels.numpy(), scores[k].numpy())) < 1e-12


def test_auc_single_class_is_nan():
    assert torch.isnan(batched_auc(torch.randn(2, 5), torch.ones(5))).all()
