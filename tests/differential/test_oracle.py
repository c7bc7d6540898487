"""The differential oracle (see ``machine``), run with a bounded budget or, for ``make fuzz``, for minutes.

``CQLENGINE_DIFF_PROFILE`` chooses the hypothesis profile:

``differential-bounded`` (the default, what ``make test`` runs)
    derandomized: the same programs every run, about a minute on two cores.
``differential-fuzz`` (``make fuzz``)
    random programs, run again and again with fresh seeds for ``FUZZ_MINUTES``;
    each difference not seen before in the run is printed with its shrunk program
    as it is found, each round ends with a line of progress (minutes, examples,
    steps, differences, the process's peak memory), and the run ends with the line
    ``fuzz: N examples run, M steps, differences K``.

Neither keeps a hypothesis example database: the bounded run is derandomized
(a database would only replay what it finds anyway), and a fuzz loop that
replayed its saved failures would spend each round finding them again.
"""
from __future__ import annotations

import logging
import os
import resource
import sys
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.differential.machine import COUNTS, UNSHRUNK, Difference, Oracle

_COMMON = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))
settings.register_profile("differential-bounded", derandomize=True, max_examples=150, stateful_step_count=40,
                          **_COMMON)
settings.register_profile("differential-fuzz", derandomize=False, max_examples=50, stateful_step_count=40,
                          **_COMMON)
PROFILE = os.environ.get("CQLENGINE_DIFF_PROFILE", "differential-bounded")


def test_oracle(oracle_world, capsys, caplog):
    if PROFILE != "differential-fuzz":
        run_state_machine_as_test(Oracle, settings=settings.get_profile(PROFILE))
        return
    # pytest keeps each log record of a test for its report, and the driver logs every statement the node
    # refuses to prepare at ERROR with its traceback, whose frames hold the whole hypothesis run: over an
    # hour that kept every round alive (gigabytes), and collecting them paused the process long enough to
    # time requests out. The fuzz reports differences, not logs.
    caplog.set_level(logging.CRITICAL)
    minutes = float(os.environ.get("FUZZ_MINUTES", "10"))
    started = time.monotonic()
    deadline = started + minutes * 60
    found: dict[str, str] = {}
    rounds = failed = 0
    while time.monotonic() < deadline:
        rounds += 1
        UNSHRUNK.clear()
        try:
            run_state_machine_as_test(Oracle, settings=settings.get_profile(PROFILE))
        except Exception as error:  # noqa: BLE001 - every failure is reported, the loop goes on
            failed += 1
            for one in getattr(error, "exceptions", [error]):
                signature = one.signature if isinstance(one, Difference) else type(one).__name__ + str(one)[:200]
                if signature not in found:
                    found[signature] = _report(one)
                    if not isinstance(one, Difference):  # no shrunk program: the first ones, as they ran
                        found[signature] += "".join(f"\n-- unshrunk, {seen}:\n" + "\n".join(program)
                                                    for seen, program in UNSHRUNK.items())
                    with capsys.disabled():
                        print(f"\n== fuzz: difference {len(found)} ({signature})\n{found[signature]}", flush=True)
        with capsys.disabled():  # a line a round, so a long run can be watched
            print(f"\nfuzz: round {rounds}, {(time.monotonic() - started) / 60:.1f} minutes, {COUNTS['examples']} "
                  f"examples, {COUNTS['steps']} steps, differences {len(found)}, peak memory {_peak_mib():.0f} MiB",
                  flush=True)
    summary = f"fuzz: {COUNTS['examples']} examples run, {COUNTS['steps']} steps, differences {len(found)}"
    with capsys.disabled():
        print(f"\n{summary} ({rounds} rounds, {failed} failed, {minutes:g} minutes)", flush=True)
    assert not found, summary


def _peak_mib() -> float:
    """The process's largest resident size so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 2 ** 10


def _report(error: BaseException) -> str:
    """The difference and the shrunk program hypothesis attached to it."""
    return "\n".join([f"{type(error).__name__}: {error}", *getattr(error, "__notes__", [])])
