# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration bench start stop status docs clean prereqs

$(STAMP): setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' ruff mypy
	touch $(STAMP)

prereqs:
	@tools/ensure-prereqs.sh

demo: $(STAMP) prereqs
	$(BIN)/python -m cqlengine.testing start
	@for example in examples/[0-9]*.py; do \
	  echo "== $$example"; \
	  $(BIN)/python $$example || exit 1; \
	done
	@echo "== the local Cassandra keeps running for the next demo or test run: 'make stop' stops it"

lint: $(STAMP)
	$(BIN)/ruff check cqlengine tests examples $(wildcard benchmarks/*.py)

typecheck: $(STAMP)
	$(BIN)/mypy cqlengine

# The pytest plugin starts the server when none runs, and stops what it started.
test: $(STAMP) prereqs lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) prereqs
	$(BIN)/pytest tests/integration

bench: $(STAMP) prereqs
	$(BIN)/python -m cqlengine.testing start
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

start: $(STAMP) prereqs
	$(BIN)/python -m cqlengine.testing start

stop: $(STAMP)
	$(BIN)/python -m cqlengine.testing stop

status: $(STAMP)
	$(BIN)/python -m cqlengine.testing status

docs: $(STAMP)
	$(BIN)/pip install -q sphinx
	$(BIN)/sphinx-build -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
