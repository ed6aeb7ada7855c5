"""The root of every error musicinterp raises for a user's mistake.

Each error class derives from ``MusicInterpError`` (and keeps the builtin base
it had, ``ValueError`` or ``OSError`` and so on, so existing ``except`` clauses
still catch it). The command line prints a ``MusicInterpError`` as one line and
exits with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MusicInterpError(Exception):
    """A user error: bad input, a missing file, a refused setting. The message names what is wrong."""
