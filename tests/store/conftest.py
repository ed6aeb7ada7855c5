import pytest
import torch

from musicinterp.data.concept_set import ConceptSet


def random_set(n: int = 12, t: int = 14, seed: int = 0, name: str = "rand") -> ConceptSet:
    g = torch.Generator().manual_seed(seed)
    return ConceptSet(name, {"drums": torch.tensor([i % 2 for i in range(n)]),
                             "tempo": torch.tensor([(i // 2) % 2 for i in range(n)])},
                      [f"c{i}" for i in range(n)], [f"g{i // 2}" for i in range(n)],
                      codes=torch.randint(0, 2048, (n, 4, t), generator=g))


@pytest.fixture
def rset():
    return random_set()
