"""Sphinx configuration: the API reference is generated from the package's own docstrings."""
import ast
import importlib
import inspect
import os
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, os.path.abspath(".."))

import cqlengine  # noqa: E402

project = "cqlengine"
author = "The cqlengine authors"
copyright = "2026, The cqlengine authors"
release = version = cqlengine.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary"]
autosummary_generate = False  # the tables link to what each page's automodule documents
master_doc = "index"
html_theme = "alabaster"
exclude_patterns = ["_build", "samples"]

# Members defined in each module only: names a module re-exports (the driver's
# ConsistencyLevel, BoundStatement ...) are documented where they come from, not here.
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True,
                           "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Annotations name the driver's classes, which this documentation does not hold.
nitpicky = False
# Annotations such as ``type[M]`` find several attributes named ``type``: not a broken reference.
suppress_warnings = ["ref.python"]


def _read_columns_from_their_modules():
    # The classes of cqlengine.columns are defined in its submodules but name the package as their module
    # (``__module__``), so autodoc looks for their overloads, attribute comments and member order in the
    # package's __init__. Give it the submodules' source instead, in the order the package imports them (the
    # page's order), without their imports of one another (which would move a name to where it is imported).
    package = importlib.import_module("cqlengine.columns")
    prefix = package.__name__ + "."
    init = Path(package.__file__)
    submodules = dict.fromkeys(node.module for node in ast.parse(init.read_text()).body
                               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix))
    sources = []
    for name in submodules:
        lines = Path(importlib.import_module(name).__file__).read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix):
                lines[node.lineno - 1:node.end_lineno] = [" " * node.col_offset + "pass"] * (
                    node.end_lineno - node.lineno + 1)
        sources.append("\n".join(lines))
    # "pass" between modules: a module's docstring must not read as the doc of the last name the one before assigns.
    source = "\npass\n".join(sources)
    ModuleAnalyzer.cache["module", package.__name__] = ModuleAnalyzer.for_string(source, package.__name__, init)


def _skip_generated(app, what, name, obj, skip, options):
    # Every model class gets its own DoesNotExist / MultipleObjectsReturned: documented once, on Model.
    if name in ("DoesNotExist", "MultipleObjectsReturned") and what == "class":
        return True
    return None


class ModuleSummary(SphinxDirective):
    """``.. module-summary:: cqlengine.x``: a table of the module's documented classes and functions, each
    with the first line of its docstring (what the page's ``automodule`` then documents in full)."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        module = importlib.import_module(name)
        names = [attr for attr, obj in vars(module).items()
                 if not attr.startswith("_") and getattr(obj, "__module__", None) == name
                 and (inspect.isclass(obj) or inspect.isfunction(obj)) and inspect.getdoc(obj)
                 and not (inspect.isclass(obj) and issubclass(obj, Exception) and name != "cqlengine.exceptions"
                          and attr in ("DoesNotExist", "MultipleObjectsReturned"))]
        if not names:
            return []
        content = StringList([".. autosummary::", "", *(f"   ~{name}.{attr}" for attr in names)], source=name)
        holder = nodes.container()
        self.state.nested_parse(content, self.content_offset, holder)
        return holder.children


def setup(app):
    app.add_directive("module-summary", ModuleSummary)
    _read_columns_from_their_modules()
    app.connect("autodoc-skip-member", _skip_generated)
