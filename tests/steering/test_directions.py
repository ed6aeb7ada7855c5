"""``head_directions`` against directions and stds worked out by hand on a five-clip view."""

from types import SimpleNamespace

import pytest
import torch

from musicinterp.probes import ProbeConfig
from musicinterp.steering.directions import head_directions
from musicinterp.store.reader import ProbeView

# one layer, one head, head_dim 2; clips 0-3 train, clip 4 validation (must not count)
X = torch.tensor([[3.0, 1.0], [5.0, 1.0], [1.0, 1.0], [1.0, 1.0], [100.0, 100.0]]).reshape(5, 1, 1, 2)
VIEW = ProbeView(x=X, labels={"c": torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0])}, clip_ids=list("abcde"),
                 groups=list("abcde"), splits=["train"] * 4 + ["val"], site="attn_z", pooling="mean")
BANK = SimpleNamespace(config=ProbeConfig(), weight=torch.tensor([[3.0, 4.0]]))


def test_mass_mean_direction_and_its_std():
    # positive mean (4, 1) - negative mean (1, 1) = (3, 0) -> unit (1, 0); projections 3, 5, 1, 1
    d, sigma = head_directions(VIEW, BANK, "c", "mass_mean")
    assert d[0].tolist() == pytest.approx([1.0, 0.0])
    assert float(sigma[0]) == pytest.approx((11 / 3) ** 0.5)  # deviations .5, 2.5, -1.5, -1.5; n - 1 = 3


def test_probe_direction_is_the_unit_weight_row():
    # (3, 4) / 5 = (0.6, 0.8); projections 2.6, 3.8, 1.4, 1.4 -> mean 2.3, squared deviations sum 3.96
    d, sigma = head_directions(VIEW, BANK, "c", "probe")
    assert d[0].tolist() == pytest.approx([0.6, 0.8])
    assert float(sigma[0]) == pytest.approx((3.96 / 3) ** 0.5)


def test_an_unknown_direction_kind_is_refused():
    with pytest.raises(ValueError, match="mass_mean"):
        head_directions(VIEW, BANK, "c", "median")
