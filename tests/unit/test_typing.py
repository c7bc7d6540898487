"""The typing of models, columns and querysets, as mypy and pyright see user code.

``tests/typing/pass_sample.py`` must check cleanly; ``tests/typing/fail_sample.py``
must give an error on exactly the lines marked ``# expect:``, with each checker.
Both checkers are part of the ``dev`` extra: one that cannot run fails the test.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "typing"
PASS = SAMPLES / "pass_sample.py"
FAIL = SAMPLES / "fail_sample.py"


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    # From the repository root: both checkers then import this checkout's cqlengine.
    try:
        return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{args[0]} could not run: {exc}")


def mypy_errors(path: Path) -> dict[int, list[str]]:
    proc = _run(["mypy", "--no-incremental", "--show-error-codes", "--no-error-summary", str(path)])
    if proc.returncode not in (0, 1) or "No module named mypy" in proc.stderr:
        pytest.fail(f"mypy could not run (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    errors: dict[int, list[str]] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"(.+?):(\d+): error: (.*)", line)
        if match and Path(match.group(1)).name == path.name:
            errors.setdefault(int(match.group(2)), []).append(match.group(3))
    return errors


def pyright_errors(path: Path) -> dict[int, list[str]]:
    proc = _run(["pyright", "--outputjson", "--pythonpath", sys.executable, str(path)])
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"pyright could not run (exit {proc.returncode}); it is in the dev extra, and fetches "
                    f"its node runtime on first use:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    errors: dict[int, list[str]] = {}
    for diag in report.get("generalDiagnostics", []):
        if diag.get("severity") == "error":
            errors.setdefault(diag["range"]["start"]["line"] + 1, []).append(diag["message"].splitlines()[0])
    return errors


def expected_lines(path: Path) -> set[int]:
    lines = enumerate(path.read_text().splitlines(), 1)
    return {n for n, line in lines if re.search(r"\S.*#\s*expect:", line) and not line.lstrip().startswith("#")}


CHECKERS = {"mypy": mypy_errors, "pyright": pyright_errors}


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_pass_sample_has_no_errors(checker: str) -> None:
    errors = CHECKERS[checker](PASS)
    assert errors == {}, f"{checker} on {PASS.name}: " + "; ".join(
        f"line {n}: {' / '.join(msgs)}" for n, msgs in sorted(errors.items()))


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_fail_sample_errors_on_exactly_the_marked_lines(checker: str) -> None:
    expected = expected_lines(FAIL)
    assert len(expected) >= 10
    errors = CHECKERS[checker](FAIL)
    missing = sorted(expected - errors.keys())
    unexpected = {n: msgs for n, msgs in sorted(errors.items()) if n not in expected}
    lines = FAIL.read_text().splitlines()
    assert not missing and not unexpected, (
        f"{checker} on {FAIL.name}: no error on marked lines "
        + "; ".join(f"{n}: {lines[n - 1].strip()}" for n in missing)
        + " | errors on unmarked lines " + "; ".join(f"{n}: {' / '.join(m)}" for n, m in unexpected.items())
    )


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_the_models_guides_typed_model_example_errs_where_it_says(checker: str, tmp_path: Path) -> None:
    text = (ROOT / "docs" / "guides" / "models.rst").read_text()
    block = re.search(r"\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", text)
    assert block, "the models guide has no TypedModel example"
    code = "\n".join(line[4:] for line in block.group(1).splitlines())
    example = tmp_path / "guide_example.py"
    example.write_text(code + "\n")
    said = {n for n, line in enumerate(code.splitlines(), 1) if "# error:" in line}
    assert len(said) == 3
    assert set(CHECKERS[checker](example)) == said
