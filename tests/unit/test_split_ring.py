"""Cutting the token ring into scan splits (pure: no server)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqlengine import statements
from cqlengine.exceptions import QueryException
from cqlengine.scans import PARTITIONER_BOUNDS, split_ring, token_bounds

MURMUR3 = PARTITIONER_BOUNDS["Murmur3Partitioner"]

rings = st.lists(st.integers(MURMUR3[0], MURMUR3[1]), unique=True, max_size=40).map(
    lambda tokens: [(t, (f"10.0.0.{i % 3}",)) for i, t in enumerate(sorted(tokens))])


@given(rings, st.integers(1, 200))
def test_pieces_cover_the_ring_once_in_order(ring, wanted):
    pieces = split_ring(MURMUR3, ring, wanted)
    assert pieces[0][0] == MURMUR3[0] and pieces[-1][1] == MURMUR3[1]
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(start < end for start, end, _ in pieces)
    assert len(pieces) >= max(1, len(ring) - (ring[0][0] == MURMUR3[0] if ring else 0))


@given(rings, st.integers(1, 200))
def test_each_piece_lies_in_one_range_with_its_replicas(ring, wanted):
    tokens = [t for t, _ in ring]
    owner = dict(ring)
    for start, end, replicas in split_ring(MURMUR3, ring, wanted):
        # the range holding (start, end] ends at the first node token >= end (or wraps to the first)
        ends = [t for t in tokens if t >= end]
        assert not [t for t in tokens if start < t < end]  # no node token strictly inside
        expected = owner[ends[0]] if ends else (owner[tokens[0]] if tokens else ())
        assert replicas == expected


def test_about_the_count_asked_for_when_it_exceeds_the_ranges():
    ring = [(-(2**62), ("a",)), (0, ("b",)), (2**62, ("c",))]
    assert 15 <= len(split_ring(MURMUR3, ring, 16)) <= 17
    assert len(split_ring(MURMUR3, ring, 1)) == 4  # never fewer than the ranges (the wrap range is two)
    even = split_ring(MURMUR3, [], 3)  # no token metadata: even pieces, no replicas
    widths = [end - start for start, end, _ in even]
    assert len(even) == 3 and max(widths) - min(widths) <= 1 and all(r == () for _, _, r in even)


def test_refusals():
    with pytest.raises(QueryException, match="positive int"):
        split_ring(MURMUR3, [], 0)
    with pytest.raises(QueryException, match="ByteOrderedPartitioner"):
        token_bounds("org.apache.cassandra.dht.ByteOrderedPartitioner")
    assert token_bounds("org.apache.cassandra.dht.RandomPartitioner") == (-1, 2**127)


def test_token_selector_renders_last():
    cql, params = statements.SelectStatement("t", "ks", fields=["a", "b"], writetime_of=["b"], ttl_of=["b"],
                                             token_of=["a"]).render()
    assert cql == 'SELECT a, b, WRITETIME(b), TTL(b), token(a) FROM ks.t' and params == []
