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
import queue
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

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


class BackgroundWriter(Generic[T]):
    """Runs ``write(item)`` for submitted items, in order, on one thread."""

    def __init__(self, write: Callable[[T], object], in_flight: int = 2) -> None:
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {in_flight}")
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
                release_freed_memory()
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
