"""Worlds: what a model's world knows (concepts, judges, grammar, tasks, sweeps). See :class:`World`."""

from ..models.sources import register_default_world
from .audio import AudioWorld
from .base import World, WorldError

register_default_world(AudioWorld)

__all__ = ["World", "WorldError", "AudioWorld"]
