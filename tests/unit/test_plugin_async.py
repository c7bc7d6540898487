"""The pytest plugin runs ``async def`` tests when asked to, and leaves other projects alone."""
from __future__ import annotations

import subprocess
import sys

pytest_plugins = ["pytester"]

ASYNC_TESTS = """
import asyncio
import pytest

async def test_awaits():
    await asyncio.sleep(0)
    assert asyncio.get_running_loop() is not None

async def test_fails():
    await asyncio.sleep(0)
    assert 1 == 2

async def test_gets_fixtures(tmp_path):
    assert tmp_path.exists()
"""


def test_async_tests_run_with_the_ini_setting_and_their_failures_count(pytester):
    pytester.makeini("[pytest]\ncqlengine_async_tests = true\n")
    pytester.makepyfile(ASYNC_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:anyio")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])


def test_a_marked_async_test_runs_and_an_unmarked_one_is_left_alone(pytester):
    pytester.makepyfile(
        """
        import pytest

        ran = []

        @pytest.mark.cqlengine_async
        async def test_marked():
            ran.append("marked")

        async def test_unmarked():
            ran.append("unmarked")  # pytest does not run a coroutine function by itself

        def test_what_ran():
            assert ran == ["marked"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:anyio", "-v")
    # test_what_ran passes only if the marked test ran and the unmarked one did not.
    result.stdout.fnmatch_lines(["*::test_marked PASSED*", "*::test_what_ran PASSED*"])
    assert "test_unmarked PASSED" not in result.stdout.str()


def test_another_projects_async_tests_are_not_run_by_the_plugin(pytester):
    pytester.makepyfile(ASYNC_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:anyio", "-v")
    # Run by the plugin, two would pass and test_fails would fail on its assert; pytest's own handling
    # of a coroutine function (a skip or a failure, by version) never runs the body.
    assert result.parseoutcomes().get("passed", 0) == 0
    assert "assert 1 == 2" not in result.stdout.str()


def test_loading_the_plugin_imports_neither_the_driver_nor_the_launcher():
    code = ("import sys, pytest, cqlengine.testing.plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cassandra', 'psutil', 'filelock') "
            "or m.startswith('cqlengine.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['cqlengine.testing', 'cqlengine.testing.plugin']"
