"""Sphinx configuration: the API reference is generated from the package's own docstrings."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import cqlengine  # noqa: E402

project = "cqlengine"
author = "The cqlengine authors"
copyright = "2026, The cqlengine authors"
release = version = cqlengine.__version__
extensions = ["sphinx.ext.autodoc"]
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


def _skip_generated(app, what, name, obj, skip, options):
    # Every model class gets its own DoesNotExist / MultipleObjectsReturned: documented once, on Model.
    if name in ("DoesNotExist", "MultipleObjectsReturned") and what == "class":
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated)
