"""A writer thread that overlaps chunk writes with the next chunk's forward pass.

The producer calls :meth:`BackgroundWriter.reserve` before building a chunk and
:meth:`submit` once it is built; a slot is given back only when the chunk is on
disk, so at most ``in_flight`` chunks are alive at once (one being written, the
others being built) and memory stays within the planned budget. Hashing, file
writes, fsync and the statistics' tensor ops release the GIL, so the thread
runs alongside the model.
"""

from __future__ import annotations

import ctypes
import mmap
import queue
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import InputError

T = TypeVar("T")
_STOP = object()


def _find_malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


_MALLOC_TRIM = _find_malloc_trim()


def release_freed_memory() -> bool:
    """Hand memory that is freed but kept by glibc's allocator back to the system; False where there is no glibc.

    A forward pass frees tensors of many megabytes; glibc raises its mmap threshold
    when such blocks are freed, so the next ones come from heaps it keeps (one per
    thread that allocated) and the process's resident memory stays at the high
    water of every chunk. ``malloc_trim`` returns the free pages of every heap.
    """
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


def resident_bytes() -> int | None:
    """This process's resident memory from ``/proc/self/statm`` (None where there is no such file)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        return None


class Trimmer:
    """Calls :func:`release_freed_memory` only once resident memory has grown more than ``allowance`` bytes
    since the trimmer was made (always where resident memory cannot be read).

    Trimming is not free: the next chunk faults every page back in (2% of a random-small collection).
    With room left in the memory budget, kept pages cost nothing and are reused by the next chunk.
    """

    def __init__(self, allowance: float) -> None:
        self.allowance = allowance
        self.start = resident_bytes()
        self.trims = 0

    def __call__(self) -> bool:
        now = resident_bytes()
        if now is not None and self.start is not None and now - self.start <= self.allowance:
            return False
        self.trims += 1
        return release_freed_memory()


class BackgroundWriter(Generic[T]):
    """Runs ``write(item)`` for submitted items, in order, on one thread; ``release`` runs after each write
    (default: hand freed pages back every time)."""

    def __init__(self, write: Callable[[T], object], in_flight: int = 2,
                 release: Callable[[], object] | None = None) -> None:
        if in_flight < 1:
            raise InputError(f"in_flight must be >= 1, got {in_flight}")
        self._release = release or release_freed_memory
        self._write = write
        self._slots = threading.Semaphore(in_flight)
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="musicinterp-store-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                if self._error is None:
                    self._write(item)
            except BaseException as err:  # handed to the producer at its next call
                self._error = err
            finally:
                del item  # the chunk's tensors are freed here, then their pages handed back
                self._release()
                self._slots.release()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def reserve(self) -> None:
        """Wait for room for one more chunk (raises the writer's error, if any)."""
        self._slots.acquire()
        if self._error is not None:
            self._slots.release()
            self._raise()

    def submit(self, item: T) -> None:
        """Queue a built chunk (after :meth:`reserve`)."""
        self._raise()
        self._queue.put(item)

    def close(self) -> None:
        """Wait until every queued chunk is written; raise the writer's error, if any."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise()

    def __enter__(self) -> BackgroundWriter[T]:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # the producer failed: finish what was queued (committed chunks resume), keep its error
            try:
                self.close()
            except BaseException:
                pass
