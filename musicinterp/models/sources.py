"""The registry of model sources, and the world each one's models live in.

A source says which specs it loads (``"organism"``, a folder...) and which
:class:`~musicinterp.world.World` its models get. Packages register
themselves when imported (``import musicinterp`` imports them all), so the
loader never names them; models from no registered source get the default
world (the audio world).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from ..world import World
    from .musicgen import MusicGen


@dataclass(frozen=True)
class ModelSource:
    """``matches(spec)`` says whether this source loads ``spec``; ``load`` does; ``world`` makes its world;
    ``add_commands(subparsers)``, if given, adds the source's own command-line group (training, sampling)."""

    name: str
    matches: Callable[[str], bool]
    load: Callable[[str, torch.dtype, torch.device], MusicGen]
    world: Callable[[], World]
    add_commands: Callable[[Any], None] | None = None


_SOURCES: dict[str, ModelSource] = {}
_DEFAULT_WORLD: list[Callable[[], Any]] = []


def register_source(source: ModelSource) -> None:
    """Add (or replace) a source; later registrations of the same name win."""
    _SOURCES[source.name] = source


def register_default_world(factory: Callable[[], World]) -> None:
    """The world of models from no registered source (random and real checkpoints)."""
    _DEFAULT_WORLD[:] = [factory]


def find_source(spec: str) -> ModelSource | None:
    """The registered source that loads ``spec``, if any."""
    return next((s for s in _SOURCES.values() if s.matches(spec)), None)


def sources() -> list[ModelSource]:
    """The registered sources."""
    return list(_SOURCES.values())


def world_for(source: str) -> World:
    """A new world for models of ``source`` (the default world for unregistered sources)."""
    if source in _SOURCES:
        return _SOURCES[source].world()
    return _DEFAULT_WORLD[0]()  # registered by musicinterp.world, which ``import musicinterp`` imports


def world_of(model: MusicGen) -> World:
    """``model.world``, attached on first use from the model's source."""
    world = getattr(model, "world", None)
    if world is None:
        world = world_for(getattr(model, "source", ""))
        try:
            model.world = world
        except AttributeError:  # an object that takes no attributes: its world is made each time
            pass
    return world
