"""Identifiers and addresses: ``UUID``, ``TimeUUID`` and ``Inet``."""
from __future__ import annotations

import ipaddress
import uuid as _uuid
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, overload

from cqlengine import ordering
from cqlengine.columns.base import _R, Column, _fail

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _NoPartition, _NoPrimary, _NoRequired, _Options


class UUID(Column[_uuid.UUID, _R]):
    """UUID (``uuid``); accepts ``uuid.UUID`` or its string form."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: UUID[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "uuid"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.timeuuid_key if self.db_type == "timeuuid" else ordering.uuid_key

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((_uuid.UUID,), None) if self._declares_plain(UUID) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, _uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return _uuid.UUID(value)
            except ValueError:
                raise _fail(label, value, f"is not a valid UUID ({self.db_type})") from None
        raise _fail(label, value, f"is not a UUID ({self.db_type} needs uuid.UUID or str)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._clean(value, self._label())
        return value

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return _uuid.UUID(value)
        return value


class TimeUUID(UUID[_R]):
    """Time-based (version 1) UUID (``timeuuid``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: TimeUUID[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "timeuuid"

    def _clean(self, value: Any, label: str) -> Any:
        value = super()._clean(value, label)
        if value.version != 1:
            raise _fail(
                label, value, f"is not a time-based UUID (timeuuid needs version 1, got {value.version})"
            )
        return value


class Inet(Column[str, _R]):
    """IPv4 or IPv6 address (``inet``), held as a string."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Inet[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "inet"

    def order_key(self) -> Optional[Callable[[Any], Any]]:
        return ordering.inet_key

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return str(value)
        if isinstance(value, str):
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise _fail(label, value, "is not an IPv4 or IPv6 address") from None
            return value
        raise _fail(label, value, "is not an IP address (inet needs a str)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return str(value)
        return value
