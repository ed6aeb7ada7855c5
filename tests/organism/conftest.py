import pytest


@pytest.fixture(scope="session")
def organism():
    """The shipped organism (its world is an OrganismWorld)."""
    from musicinterp import load_model

    return load_model("organism")
