"""Programs the fuzzing found, replayed on every run: each must end with every difference excused.

Each one once failed the oracle; its difference was then fixed, or kept on purpose
with an entry in ``known.py`` (named in the comment). Replaying them keeps a fix,
or an entry, from being lost.
"""
from __future__ import annotations

from tests.differential.machine import Oracle


def _replay(*steps: tuple[str, dict]) -> None:
    state = Oracle()
    for name, arguments in steps:
        getattr(state, name)(**arguments)
    state.teardown()


def test_static_only_write_refused_where_the_peer_condition_fails(oracle_world):
    # static-only-with-a-regular-value: the peer's conditional write is sent and not applied.
    _replay(("batch", {"how": "exit"}), ("batch", {"how": "exit"}),
            ("update_new_row", {"keys": {"p": 0, "ck": None}, "opts": {"batch": True, "if_exists": True},
                                "values": {"s": 0, "v": ""}}))


def test_iff_none_sent_and_not_applied_keeps_the_values_assigned(oracle_world):
    # iff-none: ours sends IF name = null (not applied), the peer refuses before assigning.
    _replay(*[("batch", {"how": "exit"})] * 32,
            ("get_animal", {"keys": {"p": 0, "n": 0}}),
            ("update_kw_holder", {"nth": 0, "opts": {}, "values": {}}),
            ("create_row", {"keys": {"p": 0, "ck": None}, "opts": {"batch": True}, "values": {}}),
            ("update_new_dog", {"keys": {"p": 0, "n": 0}, "opts": {}, "values": {"bark": None, "name": ""}}),
            ("save_new_row", {"keys": {"p": 0, "ck": None}, "opts": {}, "values": {}}),
            ("update_kw_dog", {"nth": 0, "opts": {"batch": True, "iff": {"name": None}}, "values": {"name": None}}))


def test_an_unchanged_value_is_rewritten_for_its_ttl(oracle_world):
    # unchanged-value-rewritten-for-its-ttl: the peer sends nothing and the TTL asked for is lost.
    _replay(("create_cat", {"keys": {"p": 0, "n": 0}, "opts": {}, "values": {"lives": 0}}),
            ("update_kw_cat", {"nth": 0, "opts": {"ttl": 3600}, "values": {"lives": 0}}))
