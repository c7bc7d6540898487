"""cqlengine: a Python object mapper for Apache Cassandra (CQL3)."""
from cqlengine.exceptions import CQLEngineException, ValidationError

__version__ = "0.1.0"

# Importing the query layer registers the QuerySet class on Model (models
# cannot import query: the layers point one way).
import cqlengine.query  # noqa: E402,F401

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
