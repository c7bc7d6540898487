"""Pydantic v2 models made from cqlengine models: ``Model.pydantic()``, ``to_pydantic()``, ``from_pydantic()``::

    UserOut = User.pydantic()                   # a pydantic.BaseModel subclass, made once per model
    body = User.get(id=1).to_pydantic()         # an instance of it: .model_dump_json() for an API
    user = User.from_pydantic(UserOut(...))     # back to a User (not saved)

Fields follow the columns: each column's Python type (nested user types as
nested Pydantic models, collections as ``list``/``set``/``dict``/``tuple``,
a vector as a list of its dimension); the primary key columns and those
declared ``required=True`` are required, the others optional with the
column's default; ``Text(min_length=, max_length=)`` and the integer types'
ranges become constraints. What JSON cannot hold as such is encoded: a
``blob`` as base64, a ``duration`` as ``{"months", "days", "nanoseconds"}``.
``validate()`` of the instance still applies its own rules when it is
written.

This module imports pydantic (the ``pydantic`` extra); nothing else in the
package does: ``Model.pydantic()`` imports it when first called.

The classes are cached per model class and options (model classes do not
change once made, so the cache never goes stale); ``cache_clear()`` empties
it, for tests that make models on the fly.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Optional
from uuid import UUID

import pydantic
from cassandra import util as driver_util
from pydantic import BaseModel, ConfigDict, Field, create_model

from cqlengine import columns
from cqlengine.columns import Column
from cqlengine.usertype import UserType

__all__ = ["DurationValue", "cache_clear", "from_pydantic", "model_for", "to_pydantic"]

#: Bytes travel as base64 in JSON, NaN and infinities as JSON5 constants; durations as their three parts.
_CONFIG = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", ser_json_inf_nan="constants",
                     arbitrary_types_allowed=True)


def _duration_in(value: Any) -> Any:
    if isinstance(value, dict):
        return driver_util.Duration(int(value.get("months", 0)), int(value.get("days", 0)),
                                    int(value.get("nanoseconds", 0)))
    return value


def _duration_out(value: Any) -> Any:
    if isinstance(value, driver_util.Duration):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    return value


#: A ``duration``: ``cassandra.util.Duration`` (or a ``timedelta``) in Python, three ints in JSON.
DurationValue = Annotated[Any, pydantic.BeforeValidator(_duration_in), pydantic.PlainSerializer(_duration_out)]

_SCALARS: dict[type[Column], Any] = {
    columns.Ascii: str, columns.Text: str, columns.Inet: str, columns.Blob: bytes, columns.Boolean: bool,
    columns.VarInt: int, columns.Float: float, columns.Double: float, columns.Decimal: Decimal,
    columns.DateTime: datetime, columns.Date: date, columns.Time: time, columns.Duration: DurationValue,
    columns.TimeUUID: UUID, columns.UUID: UUID,
}


def _scalar(col: Column) -> Any:
    if isinstance(col, columns.Integer):  # TinyInt, SmallInt, Integer, BigInt, Counter: their range
        return Annotated[int, Field(ge=col.min_value, le=col.max_value)] if hasattr(col, "min_value") else int
    for kind in type(col).__mro__:
        if kind in _SCALARS:
            found = _SCALARS[kind]
            if isinstance(col, columns.Text) and (col.min_length or col.max_length is not None):
                return Annotated[str, Field(min_length=col.min_length or None, max_length=col.max_length)]
            return found
    raise TypeError(f"{type(col).__name__}: no Pydantic type for it")


def field_type(col: Column) -> Any:
    """The Python type a Pydantic field of ``col`` holds (nested user types as their Pydantic models)."""
    if isinstance(col, columns.UserDefinedType):
        return _user_type_model(col.user_type)
    if isinstance(col, columns.Vector):
        inner = field_type(col.value_col)
        return Annotated[list[inner], Field(min_length=col.dimension, max_length=col.dimension)]  # type: ignore
    if isinstance(col, columns.Map):
        return dict[field_type(col.key_col), field_type(col.value_col)]  # type: ignore[misc]
    if isinstance(col, columns.Set):
        return set[field_type(col.value_col)]  # type: ignore[misc]
    if isinstance(col, columns.List):
        return list[field_type(col.value_col)]  # type: ignore[misc]
    if isinstance(col, columns.Tuple):
        return tuple[tuple(Optional[field_type(t)] for t in col.types)]  # type: ignore[misc]
    return _scalar(col)


def _required(col: Column) -> bool:
    return bool(col.primary_key or col.required)


def _field(col: Column) -> tuple[Any, Any]:
    kind = field_type(col)
    if _required(col):
        return kind, ...
    if col.is_collection:
        return kind, Field(default_factory=type(col.to_python(None)))
    default = col.default
    if callable(default):
        return Optional[kind], Field(default_factory=default)
    return Optional[kind], default


@functools.cache
def _user_type_model(user_type: type[UserType]) -> type[BaseModel]:
    fields = {name: (Optional[field_type(col)], None) for name, col in user_type._fields.items()}
    return create_model(user_type.__name__, __config__=_CONFIG, **fields)  # type: ignore[call-overload,no-any-return]


@functools.cache
def model_for(model: type, name: Optional[str] = None, exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """The Pydantic model of ``model``'s columns (by attribute name), less ``exclude``; named ``name``
    (default: the model's name)."""
    unknown = [e for e in exclude if e not in model._columns]  # type: ignore[attr-defined]
    if unknown:
        raise ValueError(f"{model.__name__}.pydantic: no column {', '.join(map(repr, unknown))} to exclude")
    fields = {attr: _field(col) for attr, col in model._columns.items()  # type: ignore[attr-defined]
              if attr not in exclude}
    return create_model(name or model.__name__, __config__=_CONFIG,  # type: ignore[call-overload,no-any-return]
                        __doc__=f"The columns of {model.__name__}, as Pydantic validates them.", **fields)


def cache_clear() -> None:
    """Forget every Pydantic model made so far."""
    model_for.cache_clear()
    _user_type_model.cache_clear()


def _plain(col: Column, value: Any) -> Any:
    """A column value as the Pydantic model takes it: user types as mappings, recursively."""
    if value is None:
        return None
    if isinstance(col, columns.UserDefinedType):
        return {name: _plain(sub, value._values.get(name)) for name, sub in col.user_type._fields.items()}
    if isinstance(col, columns.Map):
        return {_plain(col.key_col, k): _plain(col.value_col, v) for k, v in value.items()}
    if isinstance(col, (columns.List, columns.Vector)):
        return [_plain(col.value_col, v) for v in value]
    if isinstance(col, columns.Set):
        return {_plain(col.value_col, v) for v in value}
    if isinstance(col, columns.Tuple):
        return tuple(_plain(t, v) for t, v in zip(col.types, value))
    return value


def _column_value(col: Column, value: Any) -> Any:
    """A Pydantic field's value as the column holds it: nested models as user type instances."""
    if value is None:
        return None
    if isinstance(col, columns.UserDefinedType):
        data = value if isinstance(value, dict) else dict(value)
        return col.user_type(**{name: _column_value(sub, data.get(name))
                                for name, sub in col.user_type._fields.items()})
    if isinstance(col, columns.Map):
        return {_column_value(col.key_col, k): _column_value(col.value_col, v) for k, v in value.items()}
    if isinstance(col, (columns.List, columns.Vector)):
        return [_column_value(col.value_col, v) for v in value]
    if isinstance(col, columns.Set):
        return {_column_value(col.value_col, v) for v in value}
    if isinstance(col, columns.Tuple):
        return tuple(_column_value(t, v) for t, v in zip(col.types, value))
    return value


def to_pydantic(instance: Any, model: Optional[type[BaseModel]] = None) -> BaseModel:
    """``instance`` as an instance of ``model`` (default: its model's ``pydantic()``)."""
    cls: Any = type(instance)
    target = model or model_for(cls)
    wanted = target.model_fields
    return target(**{attr: _plain(col, instance._values.get(attr)) for attr, col in cls._columns.items()
                     if attr in wanted})


def from_pydantic(model: type, obj: Any) -> Any:
    """A new (unsaved) instance of ``model`` from a Pydantic instance (or a mapping) of its columns."""
    data = obj.model_dump() if isinstance(obj, BaseModel) else dict(obj)
    columns_of = model._columns  # type: ignore[attr-defined]
    unknown = [k for k in data if k not in columns_of]
    if unknown:
        raise ValueError(f"{model.__name__}.from_pydantic: no column {', '.join(map(repr, unknown))}")
    if isinstance(obj, BaseModel):
        data = {k: getattr(obj, k) for k in data}  # the values as validated (nested models, not dicts)
    return model(**{k: _column_value(columns_of[k], v) for k, v in data.items()})
