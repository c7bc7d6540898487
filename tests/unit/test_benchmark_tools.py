"""The pure parts of the benchmark tools: comparing two revisions must run the other revision's code."""
import sys
from pathlib import Path

import pytest

_BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
sys.path.insert(0, _BENCHMARKS)  # only while importing: its module names must not shadow others later
try:
    import versions
    from harness import median_interval
finally:
    sys.path.remove(_BENCHMARKS)


def test_every_import_of_the_package_is_renamed_and_nothing_else():
    source = (
        "import cqlengine\n"
        "import cqlengine.columns as columns\n"
        "from cqlengine import models\n"
        "from cqlengine.connection import telemetry\n"
        "def late():\n"
        "    from cqlengine.query import QuerySet\n"
        "    import cqlengine_extra\n"
        'NAME = "cqlengine-cursor"\n'
        "# see cqlengine.models\n"
        "from cqlengine_other import x\n"
    )
    assert versions.rename_imports(source, "cqlengine_abc123") == (
        "import cqlengine_abc123\n"
        "import cqlengine_abc123.columns as columns\n"
        "from cqlengine_abc123 import models\n"
        "from cqlengine_abc123.connection import telemetry\n"
        "def late():\n"
        "    from cqlengine_abc123.query import QuerySet\n"
        "    import cqlengine_extra\n"
        'NAME = "cqlengine-cursor"\n'
        "# see cqlengine.models\n"
        "from cqlengine_other import x\n"
    )


@pytest.mark.parametrize(("n", "ranks"), [(6, (1, 6)), (11, (2, 10)), (20, (6, 15)), (30, (10, 21))])
def test_the_median_interval_is_the_sign_tests_order_statistics(n, ranks):
    # The 95 % ranks of a table of the sign test's interval (1-based).
    assert median_interval([float(i) for i in range(1, n + 1)]) == ranks


def test_too_few_values_give_the_whole_range():
    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0)
    assert median_interval([0.9, 1.1, 1.0, 1.2, 0.8]) == (0.8, 1.2)
