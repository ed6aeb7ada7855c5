"""Fidelity for any model: code-histogram JS divergence against scipy, NLL under the unsteered model."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from musicinterp.compare.fidelity import code_histograms, fidelity, js_divergence, token_distance
from musicinterp.engine.likelihood import nll_under


def test_histograms_count_codes_per_codebook():
    codes = torch.tensor([[[0, 1, 1], [2, 2, 2]], [[1, 3, 0], [2, 0, 0]]])  # (B=2, K=2, T=3)
    hist = code_histograms(codes, 4)
    assert hist.shape == (2, 4)
    assert hist[0].tolist() == pytest.approx([2 / 6, 3 / 6, 0, 1 / 6])
    assert hist[1].tolist() == pytest.approx([2 / 6, 0, 4 / 6, 0])
    with pytest.raises(ValueError, match=r"codes must lie in 0..3"):
        code_histograms(codes + 2, 4)
    with pytest.raises(ValueError, match=r"\(B, K, T\)"):
        code_histograms(codes[0], 4)


def test_js_divergence_matches_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(16)), rng.dirichlet(np.ones(16))
    q[3] = 0.0
    q /= q.sum()
    ours = float(js_divergence(torch.tensor(p), torch.tensor(q)))
    assert ours == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)


def test_token_distance_is_zero_for_equal_usage_and_one_for_disjoint_codes():
    a = torch.randint(0, 8, (4, 4, 20), generator=torch.Generator().manual_seed(0))
    assert token_distance(a, a.flip(0), 16) == pytest.approx(0.0, abs=1e-12)
    assert token_distance(a, a + 8, 16) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same number of codebooks"):
        token_distance(a, a[:, :2], 16)


def test_fidelity_on_the_tiny_model(tiny):
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, tiny.codebook_size, (2, tiny.n_codebooks, 12), generator=g)
    ref = torch.randint(0, tiny.codebook_size, (2, tiny.n_codebooks, 12), generator=g)
    fid = fidelity(tiny, codes, ref, prompt_frames=4)
    assert fid.nll == pytest.approx(float(nll_under(tiny, codes, None, 4).mean()), abs=1e-6)
    assert fid.token_distance == pytest.approx(token_distance(codes[..., 4:], ref[..., 4:], tiny.codebook_size))
    assert fid.validity is None
