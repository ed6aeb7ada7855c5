"""Names that come from data (manifests, saved artifacts) and may become file or folder names.

A name is 1-64 characters: letters, digits, ``_``, ``.`` and ``-``, starting with
a letter or digit (so never ``.``, ``..``, a hidden file, a path or an option).
Names are checked where they enter (:func:`safe_name`), so code that later builds
``folder / f"{concept}.html"`` cannot write outside ``folder``.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import MusicInterpError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RULE = "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"


class UnsafeNameError(ValueError, MusicInterpError):
    """A name from data cannot be used: it could become a path outside its folder. Names the field."""


def safe_name(value: Any, *, field: str, error: type[UnsafeNameError] | None = None) -> str:
    """``value`` if it is a name (see the module docstring); else ``error`` (an :class:`UnsafeNameError`, or the
    caller's subclass of it) naming ``field``."""
    if not isinstance(value, str) or value in (".", "..") or NAME.fullmatch(value) is None:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise (error or UnsafeNameError)(f"{field}: {shown} cannot be used as a name; a name is {RULE}, because it may "
                              f"become a file name")
    return value


def to_name(text: str, *, max_len: int = 40) -> str:
    """A name made from arbitrary text (a folder name, say): other characters become ``_``, cut to ``max_len``."""
    out = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:max_len]
    out = re.sub(r"^[^A-Za-z0-9]+", "", out)
    return out or "x"
