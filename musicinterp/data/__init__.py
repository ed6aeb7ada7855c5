"""Data: audio loading, manifests and concept sets."""
