import warnings

import pytest

import musicinterp as mi
from musicinterp import _deprecated


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(_deprecated, "_WARNED", set())


def test_an_old_root_name_warns_once_and_is_the_same_function(fresh):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = mi.balanced_set
        second = mi.balanced_set
    assert first is second is mi.organism.balanced_set
    assert len(caught) == 1 and caught[0].category is DeprecationWarning
    assert "mi.organism.balanced_set" in str(caught[0].message)
    assert caught[0].filename == __file__  # the warning points at the caller


def test_aliases_resolve_to_their_new_homes(fresh):
    with pytest.warns(DeprecationWarning, match="mi.ActivationStore.open"):
        assert mi.open_store == mi.ActivationStore.open
    with pytest.warns(DeprecationWarning, match="mi.engine.GenerationResult"):
        assert mi.SteeredResult is mi.engine.GenerationResult
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        mi.no_such_name  # noqa: B018
