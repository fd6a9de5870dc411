"""Dataclass ⇄ JSON-compatible dict conversion for persisting records (no Docker field names here)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A dataclass tree as dicts/lists/scalars (tuples become lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def from_plain(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass of type `cls` from `to_plain` output; unknown keys are ignored."""
    return cast(T, _converter(cast(Any, cls))(data))


Converter = Callable[[Any], Any]


@cache
def _converter(hint: Any) -> Converter:
    """A function converting plain data to `hint`, built once per type: container records are
    decoded on every lookup, and walking the type hints each time dominated that."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _optional(_converter(inner[0])) if len(inner) == 1 else _identity
    if origin is tuple:
        args = typing.get_args(hint)
        item = _converter(args[0]) if args else _identity
        return _optional(lambda value: tuple(item(v) for v in value))
    if origin is list:
        (arg,) = typing.get_args(hint) or (Any,)
        element = _converter(arg)
        return _optional(lambda value: [element(v) for v in value])
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _optional(_dataclass_converter(hint))
    return _identity


def _dataclass_converter(cls: type) -> Converter:
    names = {f.name for f in dataclasses.fields(cls)}
    fields = [(k, _converter(v)) for k, v in typing.get_type_hints(cls).items() if k in names]

    def convert(data: Any) -> Any:
        return cls(**{name: conv(data[name]) for name, conv in fields if name in data})

    return convert


def _optional(convert: Converter) -> Converter:
    return lambda value: None if value is None else convert(value)


def _identity(value: Any) -> Any:
    return value
