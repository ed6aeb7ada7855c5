import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """These tests run many tiny matmuls; on a shared, loaded CPU extra threads only spin and wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
