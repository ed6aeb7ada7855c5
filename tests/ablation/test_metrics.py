"""Metrics against oracles: the project's NLL, torch's KL, a hand-computed logit difference, probe decisions."""

import pytest
import torch

from musicinterp import trace_codes
from musicinterp.ablation.inputs import AblationInputError
from musicinterp.ablation.metrics import (
    CrossEntropy,
    KLToClean,
    LogitDiff,
    MetricContext,
    ProbeScore,
    resolve_metric,
)
from musicinterp.ablation.sweep import record
from musicinterp.engine.likelihood import nll_under
from musicinterp.organism.pairs import organism_concept_codes
from musicinterp.world import WorldError


def test_cross_entropy_matches_project_nll(tiny, tiny_inputs):
    rec = record(tiny, tiny_inputs, CrossEntropy())
    oracle = nll_under(tiny, tiny_inputs.codes, tiny_inputs.cond).mean()
    assert rec.values.shape == (tiny.n_codebooks,)
    assert float(rec.values.mean()) == pytest.approx(float(oracle), abs=1e-5)


def test_kl_matches_torch():
    g = torch.Generator().manual_seed(0)
    ref = torch.log_softmax(torch.randn(2, 4, 5, 7, generator=g), -1)
    run = torch.log_softmax(torch.randn(3, 2, 4, 5, 7, generator=g), -1)
    got = KLToClean()(run, MetricContext(targets=torch.zeros(2, 4, 5, dtype=torch.long), reference=ref))
    oracle = torch.stack([torch.nn.functional.kl_div(run[c], ref, log_target=True, reduction="none").sum(-1)
                          .mean(dim=(0, 2)) for c in range(3)])
    torch.testing.assert_close(got, oracle)
    assert KLToClean()(ref[None], MetricContext(targets=None, reference=ref)).abs().max() < 1e-6


def test_logit_diff_by_hand():
    logp = torch.log_softmax(torch.randn(2, 3, 4, 6, 10, generator=torch.Generator().manual_seed(1)), -1)
    got = LogitDiff(codebook=1, positive=[2, 3], negative=[0])(logp, MetricContext(targets=None))
    cb = logp[:, :, 1]
    oracle = (torch.log(cb[..., 2].exp() + cb[..., 3].exp()) - cb[..., 0]).mean(dim=(1, 2))
    torch.testing.assert_close(got, oracle)


def test_probe_score_reads_the_bank_site(tiny, tiny_inputs, tiny_store):
    from musicinterp.probes import fit_probe_bank

    bank = fit_probe_bank(tiny_store, "x", "attn_z")
    metric = resolve_metric(tiny, ProbeScore(bank, top=3))
    rec = record(tiny, tiny_inputs, metric)
    feats = trace_codes(tiny, tiny_inputs.codes, cond=tiny_inputs.cond, read=["attn_z"], frames="valid",
                        logits=False).activations["attn_z"].mean(2)  # (B, L, H, hd)
    scores = bank.decision(feats.reshape(2, -1, tiny.head_dim))[:, metric.groups]
    assert float(rec.values) == pytest.approx(float(scores.mean()), abs=1e-4)
    bank.meta["model_fingerprint"] = "0000000000000000"
    with pytest.raises(AblationInputError, match="metric: the probe bank .* was fitted on activations of model"):
        resolve_metric(tiny, ProbeScore(bank))


def test_metric_names_and_errors(tiny):
    assert resolve_metric(tiny, "ce").name == "ce"
    with pytest.raises(WorldError, match="metric: the audio world names no codes for 'drums'"):
        resolve_metric(tiny, "logit_diff:drums")  # the tiny model's world (audio) has no concept codes
    with pytest.raises(AblationInputError, match="metric must be"):
        resolve_metric(tiny, "accuracy")
    cb, pos, neg = organism_concept_codes("drums")
    assert cb == 1 and neg == [0] and len(pos) == 48
