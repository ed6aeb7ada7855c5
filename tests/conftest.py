import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny():
    from musicinterp import load_model

    return load_model("tiny")


@pytest.fixture(scope="session")
def tiny_ids():
    return torch.randint(1, 64, (2, 5), generator=torch.Generator().manual_seed(1))


@pytest.fixture
def codes(tiny):
    return torch.randint(0, tiny.codebook_size, (2, tiny.n_codebooks, 12), generator=torch.Generator().manual_seed(2))
