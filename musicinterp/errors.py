"""The root of every error musicinterp raises for a user's mistake.

Each error class derives from ``MusicInterpError`` (and keeps the builtin base
it had, ``ValueError`` or ``OSError`` and so on, so existing ``except`` clauses
still catch it). The command line prints a ``MusicInterpError`` as one line and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MusicInterpError(Exception):
    """A user error: bad input, a missing file, a refused setting. The message names what is wrong."""


class InputError(ValueError, MusicInterpError):
    """An argument's value is out of range, of the wrong shape or inconsistent with another; the message names it."""


class InputTypeError(TypeError, MusicInterpError):
    """An argument is of the wrong type; the message names it and the type expected."""


class MissingFileError(FileNotFoundError, MusicInterpError):
    """A file or folder the call needs does not exist; the message names the path."""
