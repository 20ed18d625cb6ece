"""Frozen dataclasses to JSON-able data and back, driven by type hints (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from typing import Any

_HINTS: dict[type, dict[str, Any]] = {}


def to_data(value: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def from_data(cls: Any, data: Any) -> Any:
    """Rebuild a value of type ``cls`` (dataclass, tuple, dict, optional...) from JSON data.
    Unknown keys are ignored and missing ones take the field's default, so older and newer
    records load."""
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in typing.get_args(cls) if a is not type(None)]
        return from_data(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        item = typing.get_args(cls)[0]
        return tuple(from_data(item, v) for v in data)
    if origin is dict:
        _key, val = typing.get_args(cls)
        return {k: from_data(val, v) for k, v in data.items()}
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        if cls not in _HINTS:
            _HINTS[cls] = typing.get_type_hints(cls)
        hints = _HINTS[cls]
        return cls(**{f.name: from_data(hints[f.name], data[f.name])
                      for f in dataclasses.fields(cls) if f.name in data})
    return data


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: the text a digest is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def sha256_of(data: Any) -> str:
    """``sha256:<hex>`` of ``data``'s canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
