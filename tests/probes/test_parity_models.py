"""Probe-bank parity with the scikit-learn per-head loop on real model features (the ITI reference)."""

import numpy as np
import pytest
import torch

from musicinterp import load_model
from musicinterp.collect import collect
from musicinterp.data.concept_set import ConceptSet
from musicinterp.organism.concept_sets import balanced_set
from musicinterp.probes import fit_probe_bank

from .oracle import sklearn_head_accuracies


@pytest.fixture(scope="module")
def organism_store(tmp_path_factory):
    model = load_model("organism")
    # 1000 clips: 200 validation clips, so one clip is half a point and "within 1 point" can be judged
    return collect(model, balanced_set("drums", 1000, seed=11), ["attn_z"], out=tmp_path_factory.mktemp("o") / "s",
                   frames="pooled", batch_size=32, progress=False)


@pytest.mark.parametrize("concept", ["drums", "bass", "timbre"])
def test_parity_on_organism_concepts(organism_store, concept):
    view = organism_store.probe_view("attn_z", "mean")
    bank = fit_probe_bank(view, concept, "attn_z")
    ref = sklearn_head_accuracies(view, concept)
    assert np.abs(bank.val_acc.numpy() - ref).max() * 100 <= 1.0


def test_organism_drums_and_bass_heads_are_found(organism_store):
    for concept in ("drums", "bass"):
        bank = fit_probe_bank(organism_store, concept, "attn_z")
        assert bank.val_acc.max() >= 0.95, (concept, bank.best(3))


def test_parity_on_random_small_features(tmp_path):
    model = load_model("random-small")
    n = 64
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 2048, (n, 4, 10), generator=g)
    labels = torch.tensor([i % 2 for i in range(n)])
    codes[labels == 1, 2, :5] = 1234  # a planted concept in one codebook
    cs = ConceptSet("rs", {"c": labels}, [f"c{i}" for i in range(n)], [f"c{i}" for i in range(n)], codes=codes)
    store = collect(model, cs, ["attn_z"], out=tmp_path / "s", frames="pooled", batch_size=16,
                    progress=False)
    view = store.probe_view("attn_z", "mean")
    view.x = view.x[:, :4]  # the first 4 layers x 16 heads keep the scikit-learn loop short
    bank = fit_probe_bank(view, "c", "attn_z")
    ref = sklearn_head_accuracies(view, "c")
    assert bank.grid == (4, 16)
    assert np.abs(bank.val_acc.numpy() - ref).max() * 100 <= 1.0
