"""Page cursors and page-state checks, without a server."""
from __future__ import annotations

import base64
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqlengine import cursors
from cqlengine.exceptions import QueryException

QUERY = cursors.fingerprint("SELECT * FROM ks.t WHERE k = ?", [1], owner="T")
OTHER = cursors.fingerprint("SELECT * FROM ks.t WHERE k = ?", [2], owner="T")

# Page states Cassandra 5.0 returned (protocol v5): within one partition, and across a scan.
IN_PARTITION = bytes.fromhex("0006000400000002f07ffffffcf07ffffffc")
SCAN = bytes.fromhex("040000000b06000400000000f07ffffffcf07ffffffe")
LEGACY = bytes.fromhex("00040000000b00007ffffffc7ffffffe")  # the v3 layout, still accepted


def vint(value: int) -> bytes:
    """Cassandra's shortest unsigned vint of ``value``."""
    size = cursors._vint_size(value)
    if size == 1:
        return bytes([value])
    extra = size - 1
    if extra == 8:
        return b"\xff" + value.to_bytes(8, "big")
    first = ((0xFF << (8 - extra)) & 0xFF) | (value >> (8 * extra))
    return bytes([first]) + (value & ((1 << (8 * extra)) - 1)).to_bytes(extra, "big")


def modern_state(key: bytes, mark: bytes, remaining: int, in_partition: int) -> bytes:
    return vint(len(key)) + key + vint(len(mark)) + mark + vint(remaining) + vint(in_partition)


states = st.builds(
    modern_state, st.binary(max_size=300), st.binary(max_size=300),
    st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1),
)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 2**14 - 1, 2**14, 2**31 - 1, 2**56 - 1, 2**56, 2**64 - 1])
def test_vint_helper_matches_the_decoder(value):
    assert cursors._unsigned_vint(vint(value), 0) == (value, len(vint(value)))


def test_states_from_the_server_are_accepted():
    for state in (IN_PARTITION, SCAN, LEGACY):
        assert cursors.check_paging_state(state) == state


@given(states)
def test_round_trip(state):
    cursor = cursors.encode(state, QUERY)
    assert cursors.decode(cursor, QUERY) == state
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(st.text(max_size=200))
def test_any_text_is_refused_with_query_exception(text):
    with pytest.raises(QueryException):
        cursors.decode(text, QUERY)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=200))
def test_any_base64url_text_is_refused_with_query_exception(text):
    with pytest.raises(QueryException):
        cursors.decode(text, QUERY)


@given(st.binary(max_size=200))
def test_any_bytes_are_accepted_or_refused_with_query_exception(data):
    try:
        assert cursors.check_paging_state(data) == data
    except QueryException:
        pass


@given(states, st.data())
def test_a_cut_or_altered_cursor_is_refused(state, data):
    cursor = cursors.encode(state, QUERY)
    cut = data.draw(st.integers(0, len(cursor) - 1))
    with pytest.raises(QueryException):
        cursors.decode(cursor[:cut], QUERY)
    index = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("AQgw-_"))
    altered = cursor[:index] + replacement + cursor[index + 1:]
    if altered != cursor and base64.urlsafe_b64decode(altered + "==") != base64.urlsafe_b64decode(cursor + "=="):
        with pytest.raises(QueryException):
            cursors.decode(altered, QUERY)


def test_a_cursor_of_another_query_is_refused():
    cursor = cursors.encode(SCAN, QUERY)
    with pytest.raises(QueryException, match="belongs to another query"):
        cursors.decode(cursor, OTHER)


def test_a_cursor_of_another_version_is_refused():
    body = bytes([2]) + QUERY + SCAN
    cursor = base64.urlsafe_b64encode(body + cursors._checksum(body)).rstrip(b"=").decode()
    with pytest.raises(QueryException, match="version 2.*reads version 1"):
        cursors.decode(cursor, QUERY)


def test_malformed_cursors_name_the_problem():
    cursor = cursors.encode(SCAN, QUERY)
    with pytest.raises(QueryException, match="T.page: cursor .* not base64url"):
        cursors.decode(cursor[:10] + "!" + cursor[11:], QUERY, owner="T.page")
    with pytest.raises(QueryException, match="truncated"):
        cursors.decode(cursor[:12], QUERY)
    with pytest.raises(QueryException, match="damaged or truncated"):
        cursors.decode(cursor[:-4], QUERY)
    with pytest.raises(QueryException, match="characters long"):
        cursors.decode("A" * (cursors.MAX_CURSOR_LENGTH + 1), QUERY)
    with pytest.raises(QueryException, match="must be a str"):
        cursors.decode(b"abc", QUERY)
    with pytest.raises(QueryException, match="empty"):
        cursors.decode("", QUERY)


def test_a_well_made_cursor_around_a_bad_state_is_refused():
    # Anyone can compute the checksum: the state inside is what keeps the connection safe.
    with pytest.raises(QueryException, match="not a Cassandra page state"):
        cursors.decode(cursors.encode(b"garbage", QUERY), QUERY)


@pytest.mark.parametrize("state, words", [
    (b"garbage", "not a Cassandra page state"),
    (b"", "empty"),
    ("text", "must be bytes"),
    (SCAN[:-1], "not a Cassandra page state"),
    (SCAN + b"\x00", "not a Cassandra page state"),
    (bytes(cursors.MAX_PAGING_STATE + 1), "bytes long"),
    # A count Cassandra would read past a Java int.
    (modern_state(b"", b"\x00", 2**31, 1), "not a Cassandra page state"),
    # A length given in a longer vint than needed: Cassandra's check and parser would disagree.
    (b"\x80\x00" + IN_PARTITION[1:], "not a Cassandra page state"),
])
def test_bad_page_states_are_refused(state, words):
    with pytest.raises(QueryException, match=words):
        cursors.check_paging_state(state, owner="T.page")


def test_fingerprints_follow_the_query_not_the_set_order():
    a = cursors.fingerprint("Q", [{"x", "y", "z"}, {"b": 1, "a": 2}], owner="T")
    b = cursors.fingerprint("Q", [{"z", "y", "x"}, {"a": 2, "b": 1}], owner="T")
    assert a == b
    different = [
        cursors.fingerprint("Q2", [{"x", "y", "z"}, {"b": 1, "a": 2}], owner="T"),
        cursors.fingerprint("Q", [{"x", "y"}, {"b": 1, "a": 2}], owner="T"),
        cursors.fingerprint("Q", [{"x", "y", "z"}, {"b": 1, "a": 2}], owner="U"),
        cursors.fingerprint("Q", [["x", "y", "z"], {"b": 1, "a": 2}], owner="T"),
    ]
    assert len({a, *different}) == 5
    assert cursors.fingerprint("Q", [1]) != cursors.fingerprint("Q", ["1"])
    assert cursors.fingerprint("Q", ["a,b"]) != cursors.fingerprint("Q", ["a", "b"])
    values = [uuid.UUID(int=7), Decimal("1.50"), b"\x00", None, 1.5, (1, "a")]
    assert cursors.fingerprint("Q", values) == cursors.fingerprint("Q", list(values))
