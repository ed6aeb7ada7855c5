import pytest
import torch

from musicinterp.sae.maps import decoder_map


@pytest.mark.slow
def test_directions_near_in_cosine_land_near_on_the_map():
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=g)
    directions = torch.cat([c + 0.05 * torch.randn(10, 16, generator=g) for c in centres]).T  # (d_in, F)
    xy = decoder_map(directions * torch.rand(30, generator=g) * 5, n_neighbors=5)  # lengths do not matter
    assert xy.shape == (30, 2)
    d = torch.cdist(xy, xy)
    group = torch.arange(30) // 10
    same = group[:, None] == group[None, :]
    assert d[same].max() < d[~same].min()
