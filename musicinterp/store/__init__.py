"""The activation store: layer-major safetensors shards, a Parquet row index, metadata and statistics."""

from .errors import StoreError, StoreIncompleteError, StoreModelMismatchError
from .reader import ActivationStore, ProbeView

__all__ = ["ActivationStore", "ProbeView", "StoreError", "StoreIncompleteError", "StoreModelMismatchError"]
