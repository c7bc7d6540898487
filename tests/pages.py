"""The code blocks of a reStructuredText page, in page order, as a reader sees them rendered.

A block is a ``.. code-block:: LANG`` directive, a ``.. literalinclude::``
(the part of the file it shows, as Sphinx cuts it), or a literal block
after ``::``. A page declares two things in reST comments, which are not
rendered:

``.. page setup``
    followed by an indented block of Python: what the suite runs before the
    page's blocks (connecting, picking a keyspace). One per page at most.

``.. partial: why``
    just before a block: the block is deliberately not a runnable whole
    (the suite counts it, and does not run it).

Everything here is plain text work, with no server: the integration test
``tests/integration/test_pages.py`` runs what it returns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]

#: Languages whose blocks are Python the suite runs.
PYTHON = frozenset({"python", "python3", "py"})
#: Languages of blocks that are not Python: shell commands a reader types, and what programs print.
NOT_PYTHON = frozenset({"sh", "console", "bash", "shell", "text", "none", "cql", "ini", "toml", "yaml", "pycon"})

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. (?P<name>code-block|code|sourcecode|literalinclude)::\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^ *:(?P<name>[\w-]+):\s*(?P<value>.*)$")
_SETUP = re.compile(r"^\.\. page setup\s*$")
_PARTIAL = re.compile(r"^ *\.\. partial:\s*(?P<why>\S.*)$")
_LITERAL = re.compile(r"(?<!:)::\s*$")


def shown(path: Path) -> str:
    """``path`` as messages show it: from the repository's root when it is inside."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


class PageError(ValueError):
    """A page whose blocks cannot be read as the suite reads them (the message says where and why)."""


@dataclass
class Block:
    """One code block of a page: where it starts, its language and its text as rendered."""

    page: Path
    line: int  # 1-based, the directive's (or the ``::`` paragraph's) line
    language: str
    code: str
    partial: Optional[str] = None  # why, when the page marks the block partial

    @property
    def where(self) -> str:
        return f"{shown(self.page)}:{self.line}"


@dataclass
class Page:
    """A page's blocks in order, and its hidden set-up (Python, or "")."""

    path: Path
    blocks: list[Block] = field(default_factory=list)
    setup: str = ""

    @property
    def python(self) -> list[Block]:
        """The Python blocks the suite runs (partial ones left out)."""
        return [b for b in self.blocks if b.language in PYTHON and b.partial is None]

    def script(self) -> str:
        """The hidden set-up, then every Python block the suite runs, as one script."""
        parts = [self.setup] if self.setup else []
        parts += [f"# {b.where}\n{b.code}" for b in self.python]
        return "\n\n".join(parts) + "\n"


def pages() -> list[Path]:
    """README.rst and every page of docs/ (the built output left out)."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*.rst") if "_build" not in p.parts)
    return [ROOT / "README.rst", *docs]


def _indented_body(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from ``start`` indented deeper than ``indent`` (blank lines inside kept), dedented;
    and the index after them."""
    body: list[str] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            break
        body.append(line)
        i += 1
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    depth = min((len(b) - len(b.lstrip(" ")) for b in body if b.strip()), default=0)
    return [b[depth:] for b in body], i


def _included(page: Path, line: int, target: str, options: dict[str, str]) -> str:
    """What ``.. literalinclude:: target`` with ``options`` renders: cut by Sphinx's own reader."""
    from sphinx.config import Config
    from sphinx.directives.code import LiteralIncludeReader

    path = (ROOT / "docs" / target.lstrip("/")) if target.startswith("/") else (page.parent / target)
    try:
        text, _ = LiteralIncludeReader(str(path), options, Config({}, {})).read()
    except (OSError, ValueError) as exc:
        raise PageError(f"{shown(page)}:{line}: {exc}") from exc
    return str(text).strip("\n")


def read_page(path: Path) -> Page:
    """The blocks of the page at ``path``, in order."""
    lines = path.read_text().splitlines()
    page = Page(path)
    partial: Optional[str] = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if _SETUP.match(line):
            if page.setup:
                raise PageError(f"{shown(path)}:{i + 1}: a second page setup")
            body, i = _indented_body(lines, i + 1, 0)
            page.setup = "\n".join(body)
            continue
        marked = _PARTIAL.match(line)
        if marked:
            partial = marked.group("why")
            i += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            start = i + 1
            indent = len(directive.group("indent"))
            options: dict[str, str] = {}
            i += 1
            while i < len(lines) and _OPTION.match(lines[i]):
                option = _OPTION.match(lines[i])
                assert option is not None
                options[option.group("name")] = option.group("value").strip()
                i += 1
            if directive.group("name") == "literalinclude":
                code = _included(path, start, directive.group("arg").strip(), options)
                language = options.get("language", "")
            else:
                body, i = _indented_body(lines, i, indent)
                code = "\n".join(body)
                language = directive.group("arg").strip()
            page.blocks.append(Block(path, start, language or "unknown", code, partial))
            partial = None
            continue
        if _LITERAL.search(line) and not line.lstrip().startswith(".."):
            body, after = _indented_body(lines, i + 1, len(line) - len(line.lstrip(" ")))
            if body:
                page.blocks.append(Block(path, i + 1, "literal", "\n".join(body), partial))
                partial = None
                i = after
                continue
        if line.strip() and partial is not None and not line.startswith(" "):
            raise PageError(f"{shown(path)}:{i + 1}: '.. partial:' must come just before a block")
        i += 1
    return page
