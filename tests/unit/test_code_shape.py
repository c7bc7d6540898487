"""The package's shape rules (docs/architecture.rst): small modules, short functions."""
from __future__ import annotations

import ast
from pathlib import Path

import cqlengine

PACKAGE = Path(cqlengine.__file__).parent
MAX_FILE_LINES = 1000
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_where_the_rules_look():
    assert (PACKAGE / "models.py").exists() and len(_sources()) > 40


def test_no_module_is_over_a_thousand_lines():
    lengths = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in _sources()}
    assert {name: n for name, n in lengths.items() if n > MAX_FILE_LINES} == {}


def test_no_function_is_over_eighty_lines():
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.name}"] = length
    assert long == {}
