import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score

from musicinterp.probes import ProbeBank, ProbeConfig, batched_auc, fit_linear, fit_logistic, fit_probe_bank
from musicinterp.store.reader import ProbeView
from musicinterp.views.probes import concept_grid, head_heatmap, layer_accuracy_curve


def sklearn_head_accuracies(view: ProbeView, bank: ProbeBank, concept: str) -> np.ndarray:
    """The ITI reference: scikit-learn LogisticRegression(max_iter=1000, C=1) fitted per head."""
    x = view.x.reshape(view.x.shape[0], -1, view.x.shape[-1]).numpy().astype(np.float64)
    y = view.labels[concept].numpy()
    val = np.isin(np.arange(len(y)), _val_rows(view, bank, concept))
    accs = []
    for g in range(x.shape[1]):
        clf = LogisticRegression(max_iter=1000, C=1.0).fit(x[~val, g], y[~val])
        accs.append(clf.score(x[val, g], y[val]))
    return np.array(accs)


def _val_rows(view, bank, concept):
    from musicinterp.splits import grouped_stratified_split

    split = grouped_stratified_split(view.labels[concept].tolist(), view.groups, bank.config.val_fraction,
                                     bank.config.seed)
    return [i for i, s in enumerate(split) if s == "val"]


def planted_view(n=240, layers=3, heads=4, d=8, seed=0) -> ProbeView:
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor([i % 2 for i in range(n)], dtype=torch.float32)
    x = torch.randn(n, layers, heads, d, generator=g) * 2 + 0.5
    x[:, 1, 2, 0] += 8.0 * y  # a strong head
    x[:, 2, 0, :3] += 0.8 * y[:, None]  # a weaker one
    ids = [f"c{i}" for i in range(n)]
    return ProbeView(x=x, labels={"drums": y}, clip_ids=ids, groups=[f"g{i // 2}" for i in range(n)],
                     splits=["train"] * n, site="attn_z", pooling="mean")


def test_logistic_bank_matches_sklearn_per_head():
    view = planted_view()
    bank = fit_probe_bank(view, "drums", "attn_z")
    ours = bank.val_acc.numpy()
    ref = sklearn_head_accuracies(view, bank, "drums")
    assert np.abs(ours - ref).max() * 100 <= 1.0
    assert bank.best(1)[0][0] == (1, 2) and bank.val_acc.reshape(3, 4)[1, 2] > 0.9
    assert bank.accuracy_grid().shape == (3, 4)


def test_solver_coefficients_equal_sklearn():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 300, 6, generator=g, dtype=torch.float64)
    y = (x[0, :, 0] + 0.5 * torch.randn(300, generator=g, dtype=torch.float64) > 0).double()
    for direct in (256, 1):  # explicit Hessians and conjugate gradients
        w, b = fit_logistic(x, y, C=0.5, direct_max_dim=direct)
        for k in range(5):
            ref = LogisticRegression(C=0.5, max_iter=1000, tol=1e-8).fit(x[k].numpy(), y.numpy())
            assert np.allclose(w[k].numpy(), ref.coef_[0], atol=1e-4)
            assert abs(b[k].item() - ref.intercept_[0]) < 1e-4


def test_linear_probe_matches_least_squares_and_auc():
    g = torch.Generator().manual_seed(2)
    for n, d in ((200, 10), (30, 50)):  # primal and dual forms
        x = torch.randn(3, n, d, generator=g, dtype=torch.float64)
        y = torch.randn(n, generator=g, dtype=torch.float64)
        w, b = fit_linear(x, y, ridge=0.0 if n > d else 1e-9)
        if n > d:
            ref = LinearRegression().fit(x[1].numpy(), y.numpy())
            assert np.allclose(w[1].numpy(), ref.coef_, atol=1e-8)
        else:  # underdetermined: the minimum-norm interpolant
            assert torch.allclose(torch.einsum("nd,d->n", x[1], w[1]) + b[1], y, atol=1e-5)
    scores = torch.randn(4, 50, generator=g)
    labels = torch.tensor([i % 3 == 0 for i in range(50)]).long()
    ours = batched_auc(scores, labels)
    for k in range(4):
        assert abs(ours[k].item() - roc_auc_score(labels.numpy(), scores[k].numpy())) < 1e-6


def test_linear_bank_on_unit_features_and_round_trip(tmp_path):
    view = planted_view()
    view.x = view.x[:, :, 0]  # per-layer site
    view.site = "resid"
    bank = fit_probe_bank(view, "drums", "resid", config=ProbeConfig(kind="linear"))
    assert bank.normalize and bank.grid == (3,)
    x = view.x.reshape(view.x.shape[0], 3, -1)
    assert torch.allclose(bank.decision(x * 7.0), bank.decision(x), atol=1e-5)  # scale-free
    bank.save(tmp_path / "b")
    again = ProbeBank.load(tmp_path / "b")
    assert torch.equal(again.weight, bank.weight) and again.config == bank.config and again.grid == (3,)
    fig = layer_accuracy_curve([bank])
    assert list(fig.data[0].y) == pytest.approx(bank.val_acc.tolist())


def test_continuous_concept_needs_linear():
    view = planted_view()
    view.labels["level"] = torch.linspace(0, 1, len(view))
    with pytest.raises(ValueError, match="continuous; use kind='linear'"):
        fit_probe_bank(view, "level")
    bank = fit_probe_bank(view, "level", config=ProbeConfig(kind="linear"))
    assert bank.val_acc.shape == (12,)


def test_heatmap_figure_data():
    view = planted_view()
    bank = fit_probe_bank(view, "drums")
    fig = head_heatmap(bank)
    z = np.array(fig.data[0].z)
    assert np.allclose(z, bank.accuracy_grid().numpy())
    custom = np.array(fig.data[0].customdata)
    assert custom[1, 2, 0] == 1 and custom[1, 2, 1] == 2  # layer, head in the hover
    assert np.isclose(custom[1, 2, 2], bank.auc_grid()[1, 2].item()) and custom[1, 2, 3] == bank.n_val
    s = head_heatmap(bank, sort=True)
    zs = np.array(s.data[0].z)
    assert (np.diff(zs, axis=1) <= 0).all()  # each layer sorted by accuracy
    assert np.array(s.data[0].customdata)[1, 0, 1] == 2  # best head of layer 1 first
    other = fit_probe_bank(planted_view(seed=3), "drums")
    grid = concept_grid([bank, other])
    assert grid.data[0].zmin == grid.data[1].zmin and grid.data[0].zmax == grid.data[1].zmax
