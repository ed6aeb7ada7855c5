"""Every error class the package exports is a MusicInterpError that keeps its builtin base."""

import importlib
import pkgutil

import pytest

import musicinterp
from musicinterp.errors import MusicInterpError


def _error_classes():
    found = {}
    for info in pkgutil.walk_packages(musicinterp.__path__, "musicinterp."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__.startswith("musicinterp"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_error_class_in_the_package_is_a_musicinterp_error():
    classes = _error_classes()
    assert len(classes) >= 15
    assert [name for name, cls in classes.items() if not issubclass(cls, MusicInterpError)] == []


def test_errors_keep_their_builtin_base_so_old_excepts_still_catch_them():
    from musicinterp.models import CheckpointNotFoundError
    from musicinterp.report import ReportError
    from musicinterp.world import WorldError

    assert issubclass(CheckpointNotFoundError, FileNotFoundError) and issubclass(WorldError, ValueError)
    with pytest.raises(ValueError):
        raise ReportError("bad item")
    assert not issubclass(MusicInterpError, (ValueError, OSError))  # only the subclasses choose a base
