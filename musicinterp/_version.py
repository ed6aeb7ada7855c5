"""The package version (one place; read by artifacts and the CLI without importing the package root)."""

__version__ = "0.2.0"
