"""Registers the organism as a model source: ``load_model("organism")`` (or ``"organism:FOLDER"``)."""

from __future__ import annotations

import torch

from ..models.musicgen import MusicGen
from ..models.sources import ModelSource, register_source
from .world import OrganismWorld


def _matches(spec: str) -> bool:
    return spec == "organism" or spec.startswith("organism:")


def _load(spec: str, dtype: torch.dtype, device: torch.device) -> MusicGen:
    from .checkpoint import load_organism

    folder = spec.split(":", 1)[1] if ":" in spec else None
    return load_organism(folder, dtype=dtype, device=device)


def _add_commands(sub) -> None:
    from .cli import add_organism_parser

    add_organism_parser(sub)


register_source(ModelSource("organism", _matches, _load, OrganismWorld, _add_commands))
