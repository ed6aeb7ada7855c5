"""``nll_under`` against an independent teacher-forced log-likelihood, and under active steerers."""

import pytest
import torch

import musicinterp as mi
from musicinterp.engine.likelihood import nll_under

PAD = 2048  # MusicGen's pad / BOS id


@pytest.fixture(scope="module")
def tiny():
    return mi.load_model("tiny")


def _oracle_nll(model, codes, ids, mask, start_frame):
    """Per-clip mean NLL from the raw Hugging Face modules, delay pattern built here."""
    hf = model.hf
    b, k, t = codes.shape
    delayed = torch.full((b, k, t + k), PAD, dtype=torch.long)
    for cb in range(k):  # position 0 is BOS; codebook cb's frame f sits at position cb + 1 + f
        delayed[:, cb, cb + 1 : cb + 1 + t] = codes[:, cb]
    enc = hf.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    if hf.text_encoder.config.hidden_size != hf.decoder.config.hidden_size \
            and hf.decoder.config.cross_attention_hidden_size is None:
        enc = hf.enc_to_dec_proj(enc)
    enc = enc * mask[..., None]
    with torch.no_grad():
        logits = hf.decoder(input_ids=delayed.reshape(b * k, -1), encoder_hidden_states=enc,
                            encoder_attention_mask=mask, use_cache=False).logits
    logp = torch.log_softmax(logits.float().reshape(b, k, t + k, -1), dim=-1)
    total = torch.zeros(b, dtype=torch.float64)
    for cb in range(k):
        for f in range(start_frame, t):  # frame f of codebook cb is predicted at position cb + f
            total -= logp[torch.arange(b), cb, cb + f, codes[:, cb, f]].double()
    return (total / (k * (t - start_frame))).float()


@pytest.mark.parametrize("start_frame", [0, 3])
def test_nll_matches_a_hand_written_teacher_forced_likelihood(tiny, start_frame):
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 2048, (3, tiny.n_codebooks, 9), generator=g)
    ids = torch.randint(0, 30, (3, 5), generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])
    cond = tiny.conditioning(input_ids=ids, attention_mask=mask)
    got = nll_under(tiny, codes, cond, start_frame, batch=2)
    want = _oracle_nll(tiny, codes, ids, mask, start_frame)
    assert got.shape == (3,)
    assert torch.allclose(got, want, atol=1e-5), (got, want)
