import pytest
import torch

from musicinterp.collect import collect
from musicinterp.data.concept_set import ConceptSet


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    from musicinterp import load_model

    model = load_model("tiny")
    n = 40
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 2048, (n, 4, 16), generator=g)
    labels = torch.tensor([i % 2 for i in range(n)])
    codes[labels == 1, 1, :] = 7  # a planted "concept": codebook 1 constant
    cs = ConceptSet("planted", {"drums": labels}, [f"c{i}" for i in range(n)], [f"c{i}" for i in range(n)],
                    codes=codes)
    out = tmp_path_factory.mktemp("steer") / "store"
    return model, collect(model, cs, ["attn_z", "resid"], out=out, progress=False)


def fit_all(store):
    """Every method fitted on the planted tiny store, with small settings."""
    from musicinterp.steering import (
        DiffMeansConfig,
        DiffMeansSteerer,
        ITIConfig,
        ITISteerer,
        RegressionConfig,
        RegressionSteerer,
        SMITINConfig,
        SMITINSteerer,
    )

    return {
        "iti": ITISteerer.fit(store, "drums", ITIConfig(k=3, strength=4.0)),
        "smitin": SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=2)),
        "diffmeans": DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(strength=1.0, layers=[1])),
        "regression": RegressionSteerer.fit(store, "drums", RegressionConfig(strength=0.5, layers=[0])),
    }




@pytest.fixture(scope="module")
def organism_drums(organism, tmp_path_factory):
    """The organism and a small pooled store of balanced drums clips (every concept labelled)."""
    from musicinterp.organism.concept_sets import balanced_set

    store = collect(organism, balanced_set("drums", 96, seed=7), ["attn_z", "resid"],
                    out=tmp_path_factory.mktemp("orgdrums") / "s", frames="pooled", batch_size=32, progress=False)
    return organism, store


@pytest.fixture(scope="module")
def two_concepts(tmp_path_factory):
    """The tiny model and a store with two planted concepts: drums (codebook 1) and bass (codebook 3)."""
    from musicinterp import load_model

    model = load_model("tiny")
    n = 48
    g = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 2048, (n, 4, 16), generator=g)
    drums = torch.tensor([i % 2 for i in range(n)])
    bass = torch.tensor([(i // 2) % 2 for i in range(n)])
    codes[drums == 1, 1, :] = 7
    codes[bass == 1, 3, :] = 9
    codes[bass == 1, 1, :4] = 7  # bass clips carry a little of the drums pattern: the directions overlap
    cs = ConceptSet("two", {"drums": drums, "bass": bass}, [f"c{i}" for i in range(n)], [f"c{i}" for i in range(n)],
                    codes=codes)
    out = tmp_path_factory.mktemp("keep") / "store"
    return model, collect(model, cs, ["attn_z", "resid"], out=out, progress=False)
