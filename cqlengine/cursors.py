"""Page cursors: opaque, URL-safe strings that resume a paged query.

A page state is handed to web clients, so whatever comes back is untrusted
input. Cassandra answers a page state it cannot parse with a *protocol*
error, and the driver then closes the connection (every query on it fails
until the host is reconnected). So a state is checked here, against the
structure Cassandra parses (protocol v4/v5 ``PagingState``, and the legacy
v3 layout Cassandra still accepts), before it is ever sent.

A cursor wraps a page state with a fingerprint of the query it belongs to
(its CQL text and bound values), so a cursor replayed against another query
is refused instead of resuming at a meaningless position, and with a
checksum, so a truncated or altered cursor is refused too. Layout, before
base64url encoding (without padding)::

    version (1 byte) | query fingerprint (12) | page state | checksum (4)

The fingerprint and checksum are not signatures: anyone holding a cursor
can forge one. That is safe because the page state inside is still checked:
its count of rows left may not exceed the query's LIMIT (Cassandra would take
it as the rest of the LIMIT), and a well-formed state then only moves the read
position of the same query. A state the server still refuses (a row mark that
does not fit the clustering columns) is reported as ``QueryException``.
The page size is left out on purpose: Cassandra's page state does not
depend on it, so a client may change the page size between pages.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Iterator, Optional, Sequence, TypeVar

from cqlengine.columns import UserTypeValue
from cqlengine.exceptions import QueryException

__all__ = ["MAX_CURSOR_LENGTH", "MAX_PAGING_STATE", "Page", "check_paging_state", "decode", "encode", "fingerprint"]

#: What one row of a page is: an instance, or values (``values_list()``).
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of results, and what fetches the next (None at the end).

    ``cursor`` is the URL-safe string to hand to clients (``qs.page(size, cursor=...)``);
    ``paging_state`` is the driver's raw bytes.
    """

    rows: list[T]
    paging_state: Optional[bytes]
    cursor: Optional[str] = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

VERSION = 1
_FINGERPRINT = 12
_CHECKSUM = 4
#: Page states longer than this are refused (they hold one partition key and one clustering).
MAX_PAGING_STATE = 8192
#: Cursors longer than this are refused before decoding.
MAX_CURSOR_LENGTH = 4 * (1 + _FINGERPRINT + MAX_PAGING_STATE + _CHECKSUM + 2) // 3
_INT_MAX = 2**31 - 1  # Cassandra reads the counts as Java ints
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _canonical(value: Any) -> bytes:
    """A stable encoding of a bound value: sets and maps sorted, every part length-prefixed."""
    if isinstance(value, (set, frozenset)):
        parts = sorted(_canonical(v) for v in value)
        tag = b"set"
    elif isinstance(value, Mapping):
        parts = sorted(_canonical(k) + _canonical(v) for k, v in value.items())
        tag = b"map"
    elif isinstance(value, (list, tuple)):
        parts = [_canonical(v) for v in value]
        tag = b"seq"
    elif isinstance(value, UserTypeValue):
        parts = [_canonical(name) + _canonical(v) for name, v in value.cqlengine_fields]
        tag = b"udt"
    else:
        text = f"{type(value).__qualname__}:{value!r}".encode("utf-8", "backslashreplace")
        return b"%d:" % len(text) + text
    body = b"".join(parts)
    return tag + b"%d:" % len(body) + body


def fingerprint(cql: str, params: Sequence[Any], owner: str = "") -> bytes:
    """What identifies a query for its cursors: its model, CQL text and bound values."""
    digest = hashlib.blake2b(digest_size=_FINGERPRINT, person=b"cqlengine-cursor")
    for part in (owner.encode(), cql.encode(), _canonical(list(params))):
        digest.update(b"%d:" % len(part) + part)
    return digest.digest()


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_CHECKSUM, person=b"cqlengine-check").digest()


def _vint_size(value: int) -> int:
    """Bytes of the shortest unsigned vint of ``value`` (Cassandra's ``computeUnsignedVIntSize``)."""
    return (639 - 9 * (64 - (value | 1).bit_length())) >> 6


def _unsigned_vint(data: bytes, index: int) -> tuple[int, int]:
    """Cassandra's unsigned vint at ``index``: (value, next index), or (-1, index) when invalid.

    The count of leading 1 bits of the first byte is the count of extra bytes. Only
    the shortest encoding is accepted: Cassandra's structure check skips a value by
    its shortest size, its parser by the bytes actually used, and the two must agree.
    """
    if index >= len(data):
        return -1, index
    first = data[index]
    extra = 8 - (first ^ 0xFF).bit_length()  # leading ones of the byte
    if index + 1 + extra > len(data):
        return -1, index
    value = first & (0xFF >> extra) if extra < 8 else 0
    for byte in data[index + 1:index + 1 + extra]:
        value = (value << 8) | byte
    if _vint_size(value) != 1 + extra:
        return -1, index
    return value, index + 1 + extra


def _modern_remaining(data: bytes) -> Optional[int]:
    """Protocol v4+ layout: vint-length partition key and row mark, then two vint counts.

    The count of rows the query may still return (its LIMIT left), or None when
    ``data`` does not have this layout.
    """
    index = 0
    for _ in range(2):  # partition key, row mark
        length, index = _unsigned_vint(data, index)
        if length < 0 or length > MAX_PAGING_STATE:
            return None
        index += length
        if index >= len(data):
            return None
    remaining, index = _unsigned_vint(data, index)
    if not 0 <= remaining <= _INT_MAX or index >= len(data):
        return None
    in_partition, index = _unsigned_vint(data, index)
    return remaining if 0 <= in_partition <= _INT_MAX and index == len(data) else None


def _legacy_remaining(data: bytes) -> Optional[int]:
    """Protocol v3 layout: short-length partition key and row mark, int remaining (and in partition)."""
    index = 0
    for _ in range(2):
        if len(data) - index < 2:
            return None
        length = int.from_bytes(data[index:index + 2], "big", signed=True)
        if length < 0:
            return None
        index += 2 + length
    if len(data) - index < 4:
        return None
    remaining = int.from_bytes(data[index:index + 4], "big", signed=True)
    if remaining < 0:
        return None
    index += 4
    if index == len(data):
        return remaining
    return remaining if len(data) - index == 4 and int.from_bytes(data[index:], "big", signed=True) >= 0 else None


def check_paging_state(state: Any, owner: str = "page", limit: Optional[int] = None) -> bytes:
    """``state`` when it has the structure of a Cassandra page state; QueryException otherwise.

    With the query's ``limit``, a state that claims more rows left than the
    limit (a forged one: Cassandra takes that count as the rest of the LIMIT)
    is refused too.
    """
    if not isinstance(state, (bytes, bytearray, memoryview)):
        raise QueryException(f"{owner}: paging_state must be bytes from an earlier page, got {type(state).__name__}")
    data = bytes(state)
    if not data:
        raise QueryException(f"{owner}: paging_state is empty (pass None for the first page)")
    if len(data) > MAX_PAGING_STATE:
        raise QueryException(f"{owner}: paging_state is {len(data)} bytes long, more than the "
                             f"{MAX_PAGING_STATE} a page state may hold")
    remaining = _modern_remaining(data)
    if remaining is None:
        remaining = _legacy_remaining(data)
    shown = data[:16].hex() + ("..." if len(data) > 16 else "")
    if remaining is None:
        raise QueryException(f"{owner}: paging_state {shown} is not a Cassandra page state "
                             "(it must be the paging_state of an earlier page, unchanged)")
    if limit is not None and remaining > limit:
        raise QueryException(f"{owner}: paging_state {shown} claims {remaining} rows left, more than the "
                             f"query's limit of {limit}: it was not made by this query")
    return data


def encode(state: bytes, query: bytes) -> str:
    """The cursor of page state ``state`` for the query with fingerprint ``query``."""
    body = bytes([VERSION]) + query + bytes(state)
    return base64.urlsafe_b64encode(body + _checksum(body)).rstrip(b"=").decode("ascii")


def decode(cursor: Any, query: bytes, owner: str = "page", limit: Optional[int] = None) -> bytes:
    """The page state in ``cursor``, refused with QueryException unless it is intact and ``query``'s.

    ``limit`` is the query's LIMIT, which the page state must not claim to exceed.
    """
    if not isinstance(cursor, str):
        raise QueryException(f"{owner}: cursor must be a str from Page.cursor, got {type(cursor).__name__}")
    shown = repr(cursor[:24] + ("..." if len(cursor) > 24 else ""))
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise QueryException(f"{owner}: cursor {shown} is {len(cursor)} characters long, "
                             f"more than the {MAX_CURSOR_LENGTH} a cursor may have")
    if not _BASE64URL.fullmatch(cursor) or len(cursor) % 4 == 1:
        raise QueryException(f"{owner}: cursor {shown} is not base64url text (A-Z, a-z, 0-9, '-', '_')")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the pattern above rules these out
        raise QueryException(f"{owner}: cursor {shown} is not base64url text ({exc})") from None
    if not raw:
        raise QueryException(f"{owner}: cursor is empty (pass None for the first page)")
    if raw[0] != VERSION:
        raise QueryException(f"{owner}: cursor {shown} has version {raw[0]}; this version reads version {VERSION}")
    if len(raw) < 1 + _FINGERPRINT + 1 + _CHECKSUM:
        raise QueryException(f"{owner}: cursor {shown} is truncated ({len(raw)} bytes)")
    body, check = raw[:-_CHECKSUM], raw[-_CHECKSUM:]
    if _checksum(body) != check:
        raise QueryException(f"{owner}: cursor {shown} is damaged or truncated (its checksum does not match)")
    if body[1:1 + _FINGERPRINT] != query:
        raise QueryException(f"{owner}: cursor {shown} belongs to another query (another table, filter, "
                             "ordering, limit or selection); a cursor only resumes the query that made it")
    return check_paging_state(body[1 + _FINGERPRINT:], owner, limit)


def next_cursor(state: Optional[bytes], query: bytes) -> Optional[str]:
    """The cursor of the next page, or None at the end."""
    return None if state is None else encode(state, query)
