import numpy as np
import pytest
import torch

from musicinterp.probes import ProbeConfig, fit_probe_bank
from musicinterp.views.probes import concept_grid, head_heatmap, layer_accuracy_curve

from .oracle import planted_view, sklearn_head_accuracies


def test_logistic_bank_matches_sklearn_per_head():
    view = planted_view()
    bank = fit_probe_bank(view, "drums", "attn_z")
    ref = sklearn_head_accuracies(view, "drums")
    assert np.abs(bank.val_acc.numpy() - ref).max() * 100 <= 1.0
    assert bank.best(1)[0][0] == (1, 2) and bank.val_acc.reshape(3, 4)[1, 2] > 0.9
    assert bank.meta["solver"]["unconverged"] == 0


def test_train_and_val_scores_are_the_probes_own():
    view = planted_view()
    bank = fit_probe_bank(view, "drums")
    x = view.x.reshape(len(view), 12, -1)
    val = torch.tensor([s == "val" for s in view.splits])
    assert torch.allclose(bank.decision(x[val]).T, bank.val_logits, atol=1e-4)
    train_pred = (bank.decision(x[~val]) > 0).float()
    assert torch.allclose((train_pred == view.labels["drums"][~val, None]).float().mean(0), bank.train_acc)


def test_iteration_limit_warns():
    with pytest.warns(UserWarning, match="did not converge in 1 iterations"):
        bank = fit_probe_bank(planted_view(), "drums", config=ProbeConfig(max_iter=1))
    assert bank.meta["solver"]["unconverged"] > 0


def test_linear_bank_on_unit_features():
    view = planted_view()
    view.x = view.x[:, :, 0]  # per-layer site
    view.site = "resid"
    bank = fit_probe_bank(view, "drums", "resid", config=ProbeConfig(kind="linear"))
    assert bank.normalize and bank.grid == (3,)
    x = view.x.reshape(len(view), 3, -1)
    assert torch.allclose(bank.decision(x * 7.0), bank.decision(x), atol=1e-5)  # scale-free
    fig = layer_accuracy_curve([bank])
    assert list(fig.data[0].y) == pytest.approx(bank.val_acc.tolist())


def test_continuous_concept_needs_linear():
    view = planted_view()
    view.labels["level"] = torch.linspace(0, 1, len(view))
    with pytest.raises(ValueError, match="continuous; use kind='linear'"):
        fit_probe_bank(view, "level")
    bank = fit_probe_bank(view, "level", config=ProbeConfig(kind="linear"))
    assert bank.val_acc.shape == (12,) and torch.isnan(bank.val_auc).all()


@pytest.mark.parametrize("concept, config, match", [
    ("bass", None, "concept 'bass' is not in this store; it has drums"),
    ("drums", ProbeConfig(kind="svm"), "unknown probe kind 'svm'"),
])
def test_bad_requests(concept, config, match):
    with pytest.raises(ValueError, match=match):
        fit_probe_bank(planted_view(), concept, config=config)


def test_heatmap_figure_data():
    bank = fit_probe_bank(planted_view(), "drums")
    fig = head_heatmap(bank)
    assert np.allclose(np.array(fig.data[0].z), bank.accuracy_grid().numpy())
    custom = np.array(fig.data[0].customdata)
    assert custom[1, 2, 0] == 1 and custom[1, 2, 1] == 2  # layer, head in the hover
    assert np.isclose(custom[1, 2, 2], bank.auc_grid()[1, 2].item()) and custom[1, 2, 3] == bank.n_val
    zs = np.array(head_heatmap(bank, sort=True).data[0].z)
    assert (np.diff(zs, axis=1) <= 0).all()  # each layer sorted by accuracy
    other = fit_probe_bank(planted_view(seed=3), "drums")
    grid = concept_grid([bank, other])
    assert grid.data[0].zmin == grid.data[1].zmin and grid.data[0].zmax == grid.data[1].zmax


def test_the_views_own_split_is_the_one_used():
    """One source of splits: a store's (or manifest's) split column decides train and validation rows."""
    view = planted_view()
    view.splits = ["val" if i % 5 == 0 else "train" for i in range(len(view))]  # not what a fresh split would give
    bank = fit_probe_bank(view, "drums", config=ProbeConfig(seed=123, val_fraction=0.5))  # ignored: the view has one
    assert bank.n_val == len(view) // 5 and bank.n_train == len(view) - len(view) // 5
    view.splits = ["train"] * len(view)  # no validation side: fall back to a grouped stratified 4:1 split
    bank = fit_probe_bank(view, "drums")
    assert 0.15 * len(view) <= bank.n_val <= 0.25 * len(view)
