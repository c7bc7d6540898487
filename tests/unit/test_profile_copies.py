"""The copies of a session's execution profiles that read rows as tuples: kept while the profile is unchanged."""
from __future__ import annotations

import copy
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.cluster import ExecutionProfile
from cassandra.query import dict_factory, tuple_factory

from cqlengine.connection.driver import ProfileCopies


class Cloning:
    """What ProfileCopies asks of a session: the driver's clone-and-update, counted."""

    def __init__(self) -> None:
        self.clones = 0

    def execution_profile_clone_update(self, profile: ExecutionProfile, **changes: Any) -> ExecutionProfile:
        self.clones += 1
        made = copy.copy(profile)
        for name, value in changes.items():
            setattr(made, name, value)
        return made


def test_a_copy_is_made_once_and_kept_while_the_profile_is_unchanged():
    session, copies = Cloning(), ProfileCopies()
    profile = ExecutionProfile(row_factory=dict_factory, consistency_level=ConsistencyLevel.ONE)
    first = copies.copy(session, profile, tuple_factory)  # type: ignore[arg-type]
    assert first is copies.copy(session, profile, tuple_factory) and session.clones == 1  # type: ignore[arg-type]
    assert first.row_factory is tuple_factory and profile.row_factory is dict_factory
    assert first.consistency_level == ConsistencyLevel.ONE


def test_a_change_to_the_profile_makes_a_new_copy():
    session, copies = Cloning(), ProfileCopies()
    profile = ExecutionProfile(row_factory=dict_factory)
    first = copies.copy(session, profile, tuple_factory)  # type: ignore[arg-type]
    profile.request_timeout = 3.5
    second = copies.copy(session, profile, tuple_factory)  # type: ignore[arg-type]
    assert second is not first and second.request_timeout == 3.5 and session.clones == 2
    assert copies.copy(session, profile, tuple_factory) is second  # type: ignore[arg-type]


def test_copies_are_bounded_and_cleared():
    session, copies = Cloning(), ProfileCopies()
    profiles = [ExecutionProfile(row_factory=dict_factory) for _ in range(ProfileCopies.LIMIT + 5)]
    for profile in profiles:
        copies.copy(session, profile, tuple_factory)  # type: ignore[arg-type]
    assert len(copies._copies) <= ProfileCopies.LIMIT
    copies.clear()
    copies.copy(session, profiles[0], tuple_factory)  # type: ignore[arg-type]
    assert session.clones == ProfileCopies.LIMIT + 6
