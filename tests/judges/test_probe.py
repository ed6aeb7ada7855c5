"""Probe judges read codes teacher-forced through the model and equal the bank applied to stored features."""

import numpy as np
import pytest
import torch

from musicinterp.judges import JudgeInputError, ProbeJudge
from musicinterp.probes import fit_probe_bank


@pytest.fixture(scope="module")
def bank_and_store(tiny_store_for_compare):
    model, store = tiny_store_for_compare
    view = store.probe_view("attn_z", "mean")
    # the store's split is stratified by another of its concepts; on 40 clips of a random model that leaves
    # too few drum clips to learn from, so this bank takes a fresh split stratified by drums
    view.splits = None
    return model, store, fit_probe_bank(view, "drums", "attn_z")


def test_score_equals_the_bank_on_the_stores_pooled_features(bank_and_store):
    model, store, bank = bank_and_store
    view = store.probe_view("attn_z", "mean")
    # the store's first clips, in index order: the fixture's codes (same generator, same planted concept)
    codes = torch.randint(0, 2048, (40, 4, 16), generator=torch.Generator().manual_seed(0))
    codes[torch.arange(40) % 2 == 1, 1, :] = 7
    codes = codes[:6]
    judge = ProbeJudge(model, bank, batch_size=4)
    res = judge(codes)
    best = int(torch.argmax(bank.val_acc))
    flat = view.x[:6].reshape(6, -1, view.x.shape[-1])
    expected = torch.sigmoid(bank.decision(flat)[:, best]).double().numpy()
    np.testing.assert_allclose(res.scores, expected, rtol=1e-4, atol=1e-5)
    assert res.threshold == 0.5 and res.name == "probe:drums@attn_z"


def test_probe_judge_reads_the_planted_concept(bank_and_store):
    model, _, bank = bank_and_store
    codes = torch.randint(0, 2048, (8, 4, 16), generator=torch.Generator().manual_seed(5))
    codes[::2, 1, :] = 7  # the planted concept on every other clip (new clips, not the store's)
    truth = np.array([i % 2 == 0 for i in range(8)])
    for top_k in (1, 3):
        res = ProbeJudge(model, bank, top_k=top_k)(codes)
        assert res.agreement(truth) >= 0.875, (top_k, res.scores)


def test_probe_judge_refuses_bad_input(bank_and_store):
    model, _, bank = bank_and_store
    with pytest.raises(ValueError, match="top_k must be in 1.."):
        ProbeJudge(model, bank, top_k=0)
    judge = ProbeJudge(model, bank)
    with pytest.raises(JudgeInputError, match="shorter than"):
        judge(torch.zeros(1, 4, 2, dtype=torch.long))
    with pytest.raises(JudgeInputError, match="codes"):
        judge(torch.zeros(1, 3, 16, dtype=torch.long))
