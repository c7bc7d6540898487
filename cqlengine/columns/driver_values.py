"""What reading rows may skip or trust: which columns' ``to_python`` return the driver's value unchanged,
and which ``to_python`` are this package's own."""
from __future__ import annotations

from cqlengine.columns.base import Column
from cqlengine.columns.numeric import Boolean, Float, Integer, VarInt

#: ``to_python`` functions that return what the driver reads for their CQL type unchanged
#: (it already reads ints, floats and booleans as such): reading rows skips calling them.
#: A subclass's own ``to_python`` is not in here, so it is always called.
DRIVER_VALUE_AS_IS = frozenset({Boolean.to_python, Integer.to_python, VarInt.to_python, Float.to_python})

# The column types are defined across the modules of this package: a converter from any of them is its own.
_PACKAGE_PREFIX = __name__.rpartition(".")[0] + "."


def reads_driver_value_as_is(col: Column) -> bool:
    """Whether ``col.to_python`` returns every value the driver reads unchanged (so it can be skipped)."""
    function = getattr(col.to_python, "__func__", None)
    return function is Column.to_python or function in DRIVER_VALUE_AS_IS


def has_packaged_to_python(col: Column) -> bool:
    """Whether ``col``'s ``to_python`` is one of this package's (which build equal values from equal rows),
    not that of a column type of the caller's own."""
    module = getattr(type(col).to_python, "__module__", None)
    return isinstance(module, str) and module.startswith(_PACKAGE_PREFIX)
