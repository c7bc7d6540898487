"""cqlengine: a Python object mapper for Apache Cassandra (CQL3)."""
from cqlengine.exceptions import CQLEngineException, ValidationError

__version__ = "0.1.0"

# The public modules (models imports query, and everything below it), so that ``import cqlengine``
# reaches ``cqlengine.models`` and ``cqlengine.query`` as the peer's users expect.
import cqlengine.models  # noqa: E402,F401

# Column value-less markers, kept for port compatibility with the peer's API.
SizeTieredCompactionStrategy = "SizeTieredCompactionStrategy"
LeveledCompactionStrategy = "LeveledCompactionStrategy"
TimeWindowCompactionStrategy = "TimeWindowCompactionStrategy"
UnifiedCompactionStrategy = "UnifiedCompactionStrategy"

__all__ = [
    "CQLEngineException",
    "ValidationError",
    "__version__",
]
