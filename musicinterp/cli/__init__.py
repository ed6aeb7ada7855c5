"""The command line: one argparse front end per family of commands, mirroring the Python API."""

from .main import main

__all__ = ["main"]
