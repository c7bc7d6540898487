"""The pytest plugin runs ``async def`` tests without any other plugin."""
from __future__ import annotations

pytest_plugins = ["pytester"]


def test_an_async_test_runs_and_its_failures_count(pytester):
    pytester.makepyfile(
        """
        import asyncio

        async def test_awaits():
            await asyncio.sleep(0)
            assert asyncio.get_running_loop() is not None

        async def test_fails():
            await asyncio.sleep(0)
            assert 1 == 2

        async def test_gets_fixtures(tmp_path):
            assert tmp_path.exists()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:anyio")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])
