"""A shim for tools that still run ``setup.py``: the project is described in ``pyproject.toml`` alone.

``make dist`` checks that this shim and ``pyproject.toml`` describe the same package.
"""
from setuptools import setup

setup()
