import pytest

from tests.store.conftest import random_set


@pytest.fixture
def rset():
    return random_set()
