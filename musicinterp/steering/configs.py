"""Typed steerer configs: one base that validates every field, maps legacy names, and parses ``key=value``.

Every method's config is a dataclass deriving from :class:`SteererConfig`. Its
strength knob is always the field ``strength`` (each method documents what it
means: ITI/SMITIN/SAE call it alpha, difference-in-means lambda, the regression
probe s); the old keywords (``alpha=``, ``lam=``) still work with a
:class:`DeprecationWarning`. Construction validates every field (types, ranges,
finiteness) and raises :class:`SteererConfigError` naming the field.
:func:`config_from_overrides` builds a config from ``["strength=3", ...]``
(the CLI's ``--set``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

from ..errors import MusicInterpError

__all__ = ["SteererConfigError", "SteererConfig", "config_from_overrides", "check_strength", "deprecated_alias"]

EDITS = ("add", "bounded")  # add a fixed multiple, or move the projection toward a class level
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class SteererConfigError(ValueError, MusicInterpError):
    """A steerer config (or strength) with a bad value; the message names the field."""


def check_strength(value: Any, where: str = "strength") -> None:
    """Refuse a strength that is not a finite number (or a tensor/list of finite numbers)."""
    import torch

    if isinstance(value, bool):
        raise SteererConfigError(f"{where} must be a number, got {value!r}")
    if isinstance(value, (list, tuple)):
        value = torch.tensor(value, dtype=torch.float32)
    if isinstance(value, torch.Tensor):
        if not bool(torch.isfinite(value).all()):
            raise SteererConfigError(f"{where} must be finite, got {value.tolist()}")
        return
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SteererConfigError(f"{where} must be a finite number, got {value!r}")


def _accept_legacy_names(cls: type) -> type:
    """Wrap the dataclass ``__init__`` so that legacy keywords map to their new field (with a warning)."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for old, new in cls.legacy_names.items():
            if old in kwargs:
                if new in kwargs:
                    raise SteererConfigError(f"{cls.__name__}: give {new}= only ({old}= is its deprecated name)")
                warnings.warn(f"{cls.__name__}({old}=...) is deprecated; use {new}=", DeprecationWarning,
                              stacklevel=2)
                kwargs[new] = kwargs.pop(old)
        init(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


class SteererConfig:
    """Base of every method's config dataclass (subclasses are ``@dataclass`` and have a ``strength`` field)."""

    legacy_names: ClassVar[dict[str, str]] = {}  # old keyword -> field
    derived_keys: ClassVar[tuple[str, ...]] = ()  # keys old artifacts kept in the config (now in meta)
    strength: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.legacy_names = {"alpha": "strength", **cls.__dict__.get("legacy_names", {})}

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(type(self).__name__, f.name, getattr(self, f.name), hints[f.name]))
        check_strength(self.strength, f"{type(self).__name__}.strength")
        self._check_precision()
        self.validate()

    def _check_precision(self) -> None:
        """The precision fields every direction method shares: ``keep`` (concept names) and ``edit``."""
        names = [f.name for f in dataclasses.fields(self)]
        if "keep" in names:
            keep = self.keep
            if any(not k.strip() for k in keep) or len(set(keep)) != len(keep):
                self.fail("keep", "must hold distinct, non-empty concept names")
        if "edit" in names:
            self.one_of("edit", EDITS)

    def validate(self) -> None:
        """Method-specific ranges (raise :class:`SteererConfigError` naming the field)."""

    def fail(self, name: str, why: str) -> None:
        raise SteererConfigError(f"{type(self).__name__}.{name} {why}, got {getattr(self, name)!r}")

    def at_least(self, name: str, low: float, optional: bool = False) -> None:
        value = getattr(self, name)
        if optional and value is None:
            return
        if value is None or not math.isfinite(value) or value < low:
            self.fail(name, f"must be a finite number >= {low}")

    def one_of(self, name: str, choices: Sequence[Any]) -> None:
        if getattr(self, name) not in choices:
            self.fail(name, f"must be one of {tuple(choices)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (what a steerer artifact stores)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SteererConfig:
        """A stored config (legacy names accepted silently); unknown fields and a missing strength are errors."""
        data = {cls.legacy_names.get(k, k): v for k, v in data.items() if k not in cls.derived_keys}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SteererConfigError(f"{cls.__name__}: unknown field(s) {unknown} (valid: {', '.join(sorted(names))})")
        if "strength" not in data:
            raise SteererConfigError(f"{cls.__name__}: the stored config has no strength")
        return cls(**data)

    def __getitem__(self, key: str) -> Any:
        """Deprecated dict-style read (``config["alpha"]``): use attributes."""
        warnings.warn(f"{type(self).__name__}[{key!r}] is deprecated; read the attribute instead",
                      DeprecationWarning, stacklevel=2)
        key = self.legacy_names.get(key, key)
        if key not in {f.name for f in dataclasses.fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def __getattr__(self, name: str) -> Any:  # only reached for missing attributes: legacy names
        new = type(self).legacy_names.get(name)
        if new is None:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        warnings.warn(f"{type(self).__name__}.{name} is deprecated; use .{new}", DeprecationWarning, stacklevel=2)
        return getattr(self, new)


def steerer_config(cls: type) -> type:
    """Decorator: a :class:`SteererConfig` dataclass that also accepts its legacy keywords."""
    return _accept_legacy_names(dataclasses.dataclass(cls))


def config_from_overrides(config_cls: type, overrides: Sequence[str], base: SteererConfig | None = None
                          ) -> SteererConfig:
    """``config_cls`` from ``["strength=3", "layers=1,2", "tau=none"]``, each value parsed to its field's type.

    Starts from ``base`` (else the defaults); unknown fields are refused with the
    list of valid ones; the result is validated like any config.
    """
    names = [f.name for f in dataclasses.fields(config_cls)]
    hints = _hints(config_cls)
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)} if base is not None else {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SteererConfigError(f"expected key=value, got {item!r}")
        field = config_cls.legacy_names.get(key, key)
        if field not in names:
            raise SteererConfigError(f"{config_cls.__name__} has no field {key!r}; valid: {', '.join(names)}")
        if field != key:
            warnings.warn(f"{key}= is deprecated; use {field}=", DeprecationWarning, stacklevel=2)
        values[field] = _parse(config_cls.__name__, field, text.strip(), hints[field])
    return config_cls(**values)


def deprecated_alias(module: str, aliases: dict[str, tuple[str, Any]]):
    """A module ``__getattr__`` serving ``aliases`` (old name -> (new name, object)), warning once per name."""
    warned: set[str] = set()

    def __getattr__(name: str) -> Any:
        if name not in aliases:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new, obj = aliases[name]
        if name not in warned:
            warned.add(name)
            warnings.warn(f"{module}.{name} is deprecated; use {new}", DeprecationWarning, stacklevel=2)
        return obj

    return __getattr__


# ---------------------------------------------------------------------- types
@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _options(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _is_int_seq(hint: Any) -> bool:
    return typing.get_origin(hint) in (Sequence, list, tuple, typing.get_origin(Sequence[int]))


def _is_str_seq(hint: Any) -> bool:
    return typing.get_origin(hint) in (tuple, Sequence, typing.get_origin(Sequence[str])) and \
        typing.get_args(hint)[:1] == (str,)


def _coerce(owner: str, name: str, value: Any, hint: Any) -> Any:
    """``value`` checked against ``hint`` (ints widen to float; sequences of ints become lists, of names tuples)."""
    for option in _options(hint):
        if option is Any:
            return value
        if _is_str_seq(option) and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        if option is type(None) and value is None:
            return None
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
        if _is_int_seq(option) and isinstance(value, (list, tuple)) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            return list(value)
    raise SteererConfigError(f"{owner}.{name} must be {_describe(hint)}, got {value!r}")


def _parse(owner: str, name: str, text: str, hint: Any) -> Any:
    """One override value parsed to the first option of ``hint`` it fits."""
    for option in _options(hint):
        if option is type(None) and text.lower() in ("none", "null"):
            return None
        if _is_str_seq(option):
            return tuple(v.strip() for v in text.strip("[]()").split(",") if v.strip())
        if option in (Any, str):
            return text
        try:
            if option is bool and text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            if option is int:
                return int(text)
            if option is float:
                return float(text)
            if _is_int_seq(option):
                inner = text.strip("[]()").strip()
                return [int(v) for v in inner.split(",") if v.strip()] if inner else []
        except ValueError:
            continue
    raise SteererConfigError(f"{owner}.{name} must be {_describe(hint)}, got {text!r}")


def _describe(hint: Any) -> str:
    names = {type(None): "None", bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    return " or ".join(names.get(o, "a list of integers" if _is_int_seq(o) else "a list of names" if _is_str_seq(o)
                                 else str(o)) for o in _options(hint))


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    return value
