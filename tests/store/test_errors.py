"""Every store error is a MusicInterpError and keeps the builtin base existing code catches."""

import pytest

from musicinterp.errors import MusicInterpError
from musicinterp.store import errors as E


@pytest.mark.parametrize("cls", [E.StoreIncompleteError, E.StoreModelMismatchError, E.StoreRequestMismatchError,
                                 E.StoreFormatError, E.StoreChecksumError, E.StoreNonFiniteError,
                                 E.StoreOverwriteError, E.InstalledPackageError])
def test_store_errors_are_store_errors(cls):
    assert issubclass(cls, E.StoreError) and issubclass(cls, MusicInterpError) and issubclass(cls, RuntimeError)


def test_damage_found_on_read_is_a_format_error():
    assert issubclass(E.StoreChecksumError, E.StoreFormatError)
    assert issubclass(E.StoreNonFiniteError, E.StoreFormatError)
    assert issubclass(E.BadEntryError, ValueError) and issubclass(E.BadEntryError, MusicInterpError)
