import pytest
import torch

from musicinterp.collect import collect
from musicinterp.data.concept_set import ConceptSet


def planted_set(n: int = 24, t: int = 20, seed: int = 0) -> ConceptSet:
    """Random codes; "drums" clips hold a constant code in codebook 1 (a concept the model can see)."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 2048, (n, 4, t), generator=g)
    labels = torch.tensor([i % 2 for i in range(n)])
    codes[labels == 1, 1, :] = 7
    ids = [f"c{i}" for i in range(n)]
    return ConceptSet("planted", {"drums": labels, "bass": torch.tensor([(i // 2) % 2 for i in range(n)])}, ids,
                      list(ids), codes=codes)


@pytest.fixture(scope="session")
def tiny_model():
    from musicinterp import load_model

    return load_model("tiny")


@pytest.fixture(scope="session")
def frames_store(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("sae") / "store"
    return collect(tiny_model, planted_set(), ["resid", "attn_z"], out=out, progress=False)


@pytest.fixture(scope="session")
def pooled_store(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("sae") / "pooled"
    return collect(tiny_model, planted_set(), ["resid"], out=out, frames="pooled", progress=False)


@pytest.fixture(scope="session")
def other_model():
    from musicinterp import load_model

    return load_model("tiny", seed=3)
