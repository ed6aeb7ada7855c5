"""What loading real checkpoints shares with the organism's loader: the missing-checkpoint error, quiet logs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from transformers.utils import logging as hf_logging


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warning that MusicGen's pad id (2048) lies outside the 2048-code vocab.

    MusicGen uses id 2048 as its BOS/pad on purpose; the warning is noise.
    """
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


class CheckpointNotFoundError(FileNotFoundError):
    """A real MusicGen checkpoint is not on this machine."""
