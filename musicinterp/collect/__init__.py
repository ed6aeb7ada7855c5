"""Concept sets -> activation stores: clips (teacher-forced), prompts (through generation), many processes.

``collect`` and ``collect_prompts`` write one store per (model, concept set, sites);
the same request into the same folder returns the finished store.
"""

from .clips import collect
from .prompts import collect_prompts
from .request import chunk_seed, concept_set_digest

__all__ = ["collect", "collect_prompts", "chunk_seed", "concept_set_digest"]
