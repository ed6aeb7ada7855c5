"""Fidelity for any model, against independent oracles.

Histograms and divergences are checked on hand-made inputs with hand-computed values
(and scipy); the NLL against a hand-built teacher-forced pass straight through the
Hugging Face model, with the delay pattern written out position by position.
"""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from musicinterp.compare.fidelity import code_histograms, fidelity, js_divergence, token_distance

# JS divergence (bits) between [1/2, 1/2] and [1, 0], by hand: the mixture is [3/4, 1/4];
# KL([1/2, 1/2] || m) = 1/2 log2(2/3) + 1/2 log2(2), KL([1, 0] || m) = log2(4/3).
JS_HALF_VS_ONE = (0.5 * math.log2(2 / 3) + 0.5 * math.log2(2) + math.log2(4 / 3)) / 2  # = 0.311278...


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


def test_js_divergence_hand_computed():
    p = torch.tensor([[0.5, 0.5], [0.25, 0.75], [1.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[1.0, 0.0], [0.25, 0.75], [0.0, 1.0]], dtype=torch.float64)
    assert JS_HALF_VS_ONE == pytest.approx(0.311278, abs=1e-6)
    assert js_divergence(p, q).tolist() == pytest.approx([JS_HALF_VS_ONE, 0.0, 1.0])  # row-wise; disjoint = 1 bit


def test_js_divergence_matches_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(16)), rng.dirichlet(np.ones(16))
    q[3] = 0.0
    q /= q.sum()
    ours = float(js_divergence(torch.tensor(p), torch.tensor(q)))
    assert ours == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)


def test_token_distance_hand_computed():
    # codebook 0: codes use {0, 0, 1, 1} against {0, 0, 0, 0} -> JS([1/2, 1/2], [1, 0]);
    # codebook 1: the same usage ({2, 3} twice, spread over two clips) -> 0. Mean over codebooks.
    codes = torch.tensor([[[0, 1], [2, 3]], [[1, 0], [3, 2]]])  # (B=2, K=2, T=2)
    reference = torch.tensor([[[0, 0], [3, 3]], [[0, 0], [2, 2]]])
    assert token_distance(codes, reference, 4) == pytest.approx(JS_HALF_VS_ONE / 2)
    assert token_distance(reference, codes, 4) == pytest.approx(JS_HALF_VS_ONE / 2)  # symmetric


def test_token_distance_is_zero_for_equal_usage_and_one_for_disjoint_codes():
    a = torch.randint(0, 8, (4, 4, 20), generator=torch.Generator().manual_seed(0))
    assert token_distance(a, a.flip(0), 16) == pytest.approx(0.0, abs=1e-12)
    assert token_distance(a, a + 8, 16) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same number of codebooks"):
        token_distance(a, a[:, :2], 16)


@torch.no_grad()
def _nll_by_hand(model, codes: torch.Tensor, start: int) -> list[float]:
    """Unconditional teacher forcing through the bare HF model, the delay pattern spelt out.

    Decoder position ``p`` of codebook ``k`` holds frame ``p - k - 1`` (pad elsewhere), so
    the logits at position ``f + k`` predict frame ``f`` of codebook ``k``.
    """
    b, k, t = codes.shape
    dec = torch.full((b, k, t + k), model.pad_id, dtype=torch.long)
    for cb in range(k):
        for p in range(t + k):
            if 0 <= p - cb - 1 < t:
                dec[:, cb, p] = codes[:, cb, p - cb - 1]
    none = torch.zeros(b, 1, dtype=torch.long)
    out = model.hf(input_ids=none, attention_mask=none, decoder_input_ids=dec.reshape(b * k, t + k))
    logp = out.logits.float().log_softmax(-1).reshape(b, k, t + k, -1)
    nll = []
    for i in range(b):
        terms = [-float(logp[i, cb, f + cb, codes[i, cb, f]]) for cb in range(k) for f in range(start, t)]
        nll.append(sum(terms) / len(terms))
    return nll


def test_fidelity_on_the_tiny_model(tiny):
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, tiny.codebook_size, (2, tiny.n_codebooks, 12), generator=g)
    ref = codes.clone()
    ref[:, 0, 4:] = (codes[:, 0, 4:] + 1) % tiny.codebook_size  # codebook 0 shifted by one id after the prompt
    fid = fidelity(tiny, codes, ref, prompt_frames=4)
    expected = _nll_by_hand(tiny, codes, 4)
    assert fid.nll == pytest.approx(sum(expected) / len(expected), abs=1e-4)
    # random codes in a 2048-id vocabulary rarely repeat: codebook 0's histograms are (nearly) disjoint,
    # the other codebooks' identical, so the mean distance is (nearly) 1 / K
    assert fid.token_distance == pytest.approx(1 / tiny.n_codebooks, abs=0.02)
    assert fid.validity is None  # a random model's world has no grammar


def test_fidelity_ignores_the_prompt_frames(tiny):
    g = torch.Generator().manual_seed(1)
    codes = torch.randint(0, tiny.codebook_size, (1, tiny.n_codebooks, 10), generator=g)
    ref = codes.clone()
    ref[..., :6] = torch.randint(0, tiny.codebook_size, ref[..., :6].shape, generator=g)  # differs only in the prompt
    fid = fidelity(tiny, codes, ref, prompt_frames=6)
    assert fid.token_distance == pytest.approx(0.0, abs=1e-12)
    assert fid.nll == pytest.approx(_nll_by_hand(tiny, codes, 6)[0], abs=1e-4)


def test_fidelity_refuses_a_steered_model(tiny):
    codes = torch.zeros(1, tiny.n_codebooks, 4, dtype=torch.long)
    tiny.steering.append(object())
    try:
        with pytest.raises(ValueError, match="active steerers"):
            fidelity(tiny, codes, codes)
    finally:
        tiny.steering.pop()
