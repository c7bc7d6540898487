"""Text and bytes: ``Text``, ``Ascii`` and ``Blob`` (also named ``Bytes``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional, overload

from cqlengine.columns.base import _R, Column, _fail
from cqlengine.exceptions import DefinitionValueError, ValidationError, ValidationValueError

if TYPE_CHECKING:
    from cqlengine.columns.base import Unpack, _NoPartition, _NoPrimary, _NoRequired, _Options


class Text(Column[str, _R]):
    """UTF-8 text (``text``). ``min_length`` / ``max_length`` count characters.

    As in the peer, ``required=True`` without ``min_length`` implies
    ``min_length=1``, and a ``min_length`` above 0 refuses None. A
    ``bytearray`` is accepted and decoded (UTF-8; ASCII for ``Ascii``).
    """

    db_type = "text"
    _encoding = "utf-8"

    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
    @overload
    def __init__(self: Text[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
    @overload
    def __init__(self: Text[Literal[False]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                 **kwargs: Unpack[_Options]) -> None: ...
    def __init__(
        self, min_length: Optional[int] = None, max_length: Optional[int] = None, **kwargs: Any
    ) -> None:
        if min_length is None and kwargs.get("required"):
            min_length = 1
        for opt, val in (("min_length", min_length), ("max_length", max_length)):
            if val is not None and val < 0:
                raise DefinitionValueError(f"{type(self).__name__}: {opt} must be >= 0, got {val}")
        if min_length is not None and max_length is not None and max_length < min_length:
            raise DefinitionValueError(
                f"{type(self).__name__}: max_length {max_length} is less than min_length {min_length}"
            )
        self.min_length = min_length
        self.max_length = max_length
        super().__init__(**kwargs)

    def _validate(self, value: Any, label: str) -> Any:
        if value is None and self.min_length and not (self.required or self.primary_key):
            # The peer counts None as shorter than min_length; so does a porting user's model.
            raise ValidationError(
                f"{label}: None is shorter than min_length {self.min_length} (min_length above 0 refuses None)"
            )
        return super()._validate(value, label)

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        if self.min_length is None and self.max_length is None and self._declares_plain(Text):
            return (str,), None
        return (), None

    def _clean(self, value: Any, label: str) -> Any:
        value = self._compared(value, label)
        if self.min_length is not None and len(value) < self.min_length:
            raise _fail(label, value, f"is shorter than min_length {self.min_length} (length {len(value)})")
        if self.max_length is not None and len(value) > self.max_length:
            raise _fail(label, value, f"is longer than max_length {self.max_length} (length {len(value)})")
        return value

    def _compared(self, value: Any, label: str) -> Any:
        if isinstance(value, bytearray):
            # The peer accepts a bytearray; bind it as the text it encodes.
            try:
                value = value.decode(self._encoding)
            except UnicodeDecodeError:
                raise _fail(label, value, f"is not {self._encoding} text ({self.db_type} needs a str "
                            "or the bytearray of one)", ValidationValueError) from None
        if not isinstance(value, str):
            raise _fail(label, value, f"is not a str ({self.db_type} needs a str)")
        return value


class Ascii(Text[_R]):
    """US-ASCII text (``ascii``)."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[True]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Ascii[Literal[False]], min_length: Optional[int] = None, max_length: Optional[int] = None,
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "ascii"
    _encoding = "ascii"

    def _compared(self, value: Any, label: str) -> Any:
        value = super()._compared(value, label)
        if not value.isascii():
            raise _fail(label, value, "contains non-ASCII characters (ascii allows only 0x00-0x7F)")
        return value


class Blob(Column[bytes, _R]):
    """Raw bytes (``blob``); accepts bytes, bytearray and memoryview, holds bytes."""

    if TYPE_CHECKING:
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, primary_key: Literal[True], **kwargs: Unpack[_NoPrimary]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, partition_key: Literal[True], **kwargs: Unpack[_NoPartition]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[True]],
                     *, required: Literal[True], **kwargs: Unpack[_NoRequired]) -> None: ...
        @overload
        def __init__(self: Blob[Literal[False]],
                     **kwargs: Unpack[_Options]) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    db_type = "blob"

    def plain_values(self) -> tuple[tuple[type, ...], Optional[tuple[int, int]]]:
        return ((bytes,), None) if self._declares_plain(Blob) else ((), None)

    def _clean(self, value: Any, label: str) -> Any:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise _fail(label, value, "is not bytes (blob needs bytes, bytearray or memoryview)")

    def to_database(self, value: Any) -> Any:
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        return value


Bytes = Blob
