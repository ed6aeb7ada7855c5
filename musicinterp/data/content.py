"""Digests of the audio files a concept set points at: their content, not their paths.

A store is reused when the same request comes again, so the request must change
when the audio does: after every WAV of a set was replaced, collecting again
must not return the old features, and a file skipped as unreadable must be
tried again once it is fixed. A concept set's digest therefore hashes each
audio file's bytes (SHA-256). Hashes are cached in memory per file, keyed by
its resolved path, size, inode and modification time (ns), so digesting an
unchanged set again reads no audio; a file rewritten in place with the same
size within one tick of the file system's clock (a few ms) would not be seen.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

_CACHE: dict[tuple[str, int, int, int], str] = {}
_LOCK = threading.Lock()
MAX_CACHED = 1_000_000  # entries (about 200 MB); the cache is emptied when it grows past this


def file_content_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (cached); ``"missing"`` or ``"unreadable: <reason>"`` when it cannot be read,
    so that a file appearing or being fixed changes the digest too."""
    p = Path(path)
    try:
        st = os.stat(p)
        key = (str(p.resolve()), st.st_size, st.st_ino, st.st_mtime_ns)
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"unreadable: {err.strerror}"
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    try:
        with open(p, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError as err:
        return f"unreadable: {err.strerror}"
    digest = h.hexdigest()
    with _LOCK:
        if len(_CACHE) >= MAX_CACHED:
            _CACHE.clear()
        _CACHE[key] = digest
    return digest


def clear_cache() -> None:
    """Forget every cached file digest (the next digest of each file reads it again)."""
    with _LOCK:
        _CACHE.clear()
