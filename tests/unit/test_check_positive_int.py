"""The one check of every count-like argument (concurrency, splits, page sizes ...)."""
import pytest

from cqlengine.connection.concurrent import send_concurrently
from cqlengine.exceptions import ConnectionException, CQLEngineException, QueryException, check_positive_int


@pytest.mark.parametrize("value", [1, 7, 10**6])
def test_a_positive_int_is_given_back(value):
    assert check_positive_int(value, "f(): n") == value


@pytest.mark.parametrize("value", [0, -1, True, False, 1.0, "3", None])
def test_anything_else_is_refused_naming_the_argument_and_the_value(value):
    with pytest.raises(QueryException, match=rf"^Model.scan\(\): concurrency must be a positive int, got {value!r}$"):
        check_positive_int(value, "Model.scan(): concurrency", QueryException)


def test_the_default_error_is_the_librarys_base_class():
    with pytest.raises(CQLEngineException, match="n must be a positive int, got 0"):
        check_positive_int(0, "n")


def test_concurrent_sends_check_before_anything_else():
    # Refused before the connection is looked at: None would fail on its first use.
    with pytest.raises(ConnectionException, match="execute_concurrently: concurrency must be a positive int, got 0"):
        send_concurrently(None, [], concurrency=0)  # type: ignore[arg-type]
