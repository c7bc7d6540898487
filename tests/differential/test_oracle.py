"""The differential oracle (see ``machine``), run with a bounded budget or, for ``make fuzz``, for minutes.

``CQLENGINE_DIFF_PROFILE`` chooses the hypothesis profile: ``differential-bounded``
(the default: derandomized, the same programs every run, about a minute) or
``differential-fuzz`` (random programs, looped for ``FUZZ_MINUTES``).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.differential.machine import Oracle

_COMMON = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))
settings.register_profile("differential-bounded", derandomize=True, max_examples=30, stateful_step_count=25,
                          **_COMMON)
settings.register_profile("differential-fuzz", derandomize=False, max_examples=20, stateful_step_count=50,
                          **_COMMON)
PROFILE = os.environ.get("CQLENGINE_DIFF_PROFILE", "differential-bounded")


def test_oracle(oracle_world):
    run_state_machine_as_test(Oracle, settings=settings.get_profile(PROFILE))
