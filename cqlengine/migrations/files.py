"""Migration files: written as reviewable Python, read back in order, each with its checksum.

A folder of migrations is a Python package of files named ``NNNN_name.py``.
Each holds ``previous`` (the name of the one before it, None for the first)
and ``operations`` (see :mod:`cqlengine.migrations.operations`). The file is
the migration: its checksum (SHA-256 of its bytes) is what the history of a
keyspace records, so a file changed after it was applied is noticed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from cqlengine.exceptions import CQLEngineException
from cqlengine.migrations.operations import Operation, SchemaState

__all__ = ["Migration", "MigrationFileError", "load_migrations", "next_name", "render_migration", "state_of"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.py$")


class MigrationFileError(CQLEngineException):
    """A folder of migrations that cannot be read as one sequence (the message says which file and why)."""


@dataclass(frozen=True)
class Migration:
    """One migration file, read."""

    name: str
    path: Path
    previous: Optional[str]
    operations: tuple[Operation, ...]
    checksum: str

    @property
    def number(self) -> int:
        return int(self.name[:4])

    def statements(self, keyspace: str) -> list[str]:
        """The CQL it sends in ``keyspace``, in order (data steps send none of their own)."""
        return [cql for op in self.operations for cql in op.statements(keyspace)]

    def steps(self, keyspace: str) -> list[Union[str, Operation]]:
        """What applying it does, one step at a time: each CQL statement, and each data step (an
        operation with ``data_step`` set, run by ``apply``). The history counts these."""
        found: list[Union[str, Operation]] = []
        for op in self.operations:
            if op.data_step:
                found.append(op)
            else:
                found += op.statements(keyspace)
        return found

    @property
    def destructive(self) -> bool:
        return any(op.destructive for op in self.operations)


def load_migrations(folder: Path) -> list[Migration]:
    """Every migration of ``folder``, in order; each must name the one before it as ``previous``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix != ".py" or path.name == "__init__.py":
            continue
        if not _NAME.match(path.name):
            raise MigrationFileError(f"{path}: a migration file is named NNNN_name.py (lower case, digits, _)")
        found.append(_load(path))
    numbers = [m.number for m in found]
    if len(set(numbers)) != len(numbers):
        raise MigrationFileError(f"{folder}: two migrations share a number: {sorted(m.name for m in found)}")
    previous: Optional[str] = None
    for migration in found:
        if migration.previous != previous:
            raise MigrationFileError(f"{migration.path}: previous is {migration.previous!r}, but the migration "
                                     f"before it is {previous!r} (two branches? renumber one after the other)")
        previous = migration.name
    return found


def _load(path: Path) -> Migration:
    data = path.read_bytes()
    spec = importlib.util.spec_from_file_location(f"_cqlengine_migration_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise MigrationFileError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise MigrationFileError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from exc
    operations = getattr(module, "operations", None)
    if not isinstance(operations, list) or not all(isinstance(op, Operation) for op in operations):
        raise MigrationFileError(f"{path}: it must define operations, a list of cqlengine.migrations operations")
    return Migration(path.stem, path, getattr(module, "previous", None), tuple(operations),
                     hashlib.sha256(data).hexdigest())


def state_of(migrations: list[Migration]) -> SchemaState:
    """The schema the migrations describe, applied in order to nothing."""
    state = SchemaState()
    for migration in migrations:
        for op in migration.operations:
            op.apply(state)
    return state


def next_name(migrations: list[Migration], operations: list[Operation], name: Optional[str] = None) -> str:
    """``NNNN_name`` for the migration after ``migrations``: ``name`` (made safe), else ``initial`` for the
    first, else what its first operation does."""
    number = (migrations[-1].number + 1) if migrations else 1
    if name is None:
        name = "initial" if not migrations else operations[0].describe() + ("_and_more" if len(operations) > 1
                                                                              else "")
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:48].rstrip("_") or "migration"
    return f"{number:04d}_{slug}"


def render_migration(name: str, previous: Optional[str], operations: list[Operation]) -> str:
    """The source of a migration file: the same operations always give the same text."""
    used: dict[str, set[str]] = {}
    for op in operations:
        used.setdefault(type(op).__module__, set()).add(type(op).__name__)
    for value in (v for op in operations for v in _nested(op)[1:]):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            used.setdefault(type(value).__module__, set()).add(type(value).__name__)
    summary = textwrap.wrap(f"{name}: {'; '.join(op.describe() for op in operations)}.", 96)
    lines = [f'"""{summary[0]}', *summary[1:], "",
             "Written by cqlengine.migrations.make_migration: review it, then apply it.",
             '"""']
    for module in sorted(used):
        lines.append(f"from {module} import {', '.join(sorted(used[module]))}")
    lines += ["", f"previous = {previous!r}", "", "operations = ["]
    for op in operations:
        lines.append(_indent(_source(op), 4) + ",")
    lines += ["]", ""]
    return "\n".join(lines)


def _nested(value: Any) -> list[Any]:
    found = [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += _nested(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            found += _nested(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found += _nested(v)
    return found


def _source(value: Any) -> str:
    """Python source for ``value``: dataclasses field by field (fields at their default left out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = []
        for f in dataclasses.fields(value):
            current = getattr(value, f.name)
            if f.default is not dataclasses.MISSING and current == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and current == f.default_factory():
                continue
            parts.append(f"{f.name}={_source(current)}")
        one_line = f"{type(value).__name__}({', '.join(parts)})"
        if len(one_line) <= 100 and "\n" not in one_line:
            return one_line
        return f"{type(value).__name__}(\n" + "".join(_indent(p, 4) + ",\n" for p in parts) + ")"
    if isinstance(value, dict) and value:
        items = [f"{k!r}: {_source(v)}" for k, v in value.items()]
        one_line = "{" + ", ".join(items) + "}"
        if len(one_line) <= 100 and "\n" not in one_line:
            return one_line
        return "{\n" + "".join(_indent(i, 4) + ",\n" for i in items) + "}"
    if isinstance(value, list) and value:
        items = [_source(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= 100 and "\n" not in one_line:
            return one_line
        return "[\n" + "".join(_indent(i, 4) + ",\n" for i in items) + "]"
    return repr(value)


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())
