"""Errors the store raises; each names the store, file, field or entry at fault."""

from ..errors import MusicInterpError


class StoreError(RuntimeError, MusicInterpError):
    """A store is damaged, refused, or cannot be written."""


class StoreIncompleteError(StoreError):
    """A collection into this store did not finish; collecting again resumes it."""


class StoreModelMismatchError(StoreError):
    """The store was collected with a different model."""


class StoreRequestMismatchError(StoreError):
    """A folder holds a store (complete or unfinished) collected with different settings."""


class StoreFormatError(StoreError):
    """A store file (metadata, index, statistics, shard header) is malformed: names the file and field."""


class BadEntryError(ValueError, MusicInterpError):
    """One entry of a concept set cannot be used (missing, unreadable, empty, non-finite...)."""


class StoreChecksumError(StoreFormatError):
    """A file's bytes differ from the checksum written with it (damaged on disk or edited): names the file."""


class StoreNonFiniteError(StoreFormatError):
    """A tensor read from a file holds NaN or inf values: names the file and the tensor."""


class StoreOverwriteError(StoreError):
    """An overwrite was refused: the folder is not wholly this package's (no marker, or foreign files)."""


class InstalledPackageError(StoreError):
    """A destination inside the installed package: its shipped files are read-only."""
