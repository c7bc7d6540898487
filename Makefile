# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration fuzz bench start stop status docs dist clean prereqs

# editable_mode=compat: a plain path entry, so type checkers (mypy, pyright) find the package too.
# setuptools warns at length that the mode is transitional: the warning says nothing to act on here.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install -q -e '.[dev]' --config-settings editable_mode=compat
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

# lint-imports: the layers contract in pyproject.toml (docs/architecture.rst), so an import that points up fails.
lint: $(STAMP)
	$(BIN)/ruff check cqlengine tests examples docs/samples $(wildcard benchmarks/*.py)
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy cqlengine

# The pytest plugin starts the server when none runs, and stops what it started.
# The awaited calls' suites run a second time on the acsylla transport (where a wheel installed it).
ACSYLLA_SUITES = tests/integration/test_async.py tests/integration/test_aexecute_parity.py \
  tests/integration/test_roundtrip.py tests/integration/test_cursors.py tests/integration/test_bulk.py \
  tests/integration/test_read_path.py tests/integration/test_schema_changes.py tests/integration/test_idempotence.py \
  tests/integration/test_silent_failures.py tests/integration/test_vector.py tests/integration/test_get_by_key.py \
  tests/integration/test_page_timeouts.py tests/integration/test_batch_statements.py

test: $(STAMP) prereqs lint typecheck docs dist
	$(BIN)/pytest
	@if $(BIN)/python -c "import acsylla" 2>/dev/null; then \
	  echo "== the awaited calls again, on transport='acsylla'"; \
	  CQLENGINE_TEST_TRANSPORT=acsylla $(BIN)/pytest -q $(ACSYLLA_SUITES) || exit 1; \
	else echo "== acsylla is not installed (no wheel for this Python/platform?): its transport is not tested"; fi

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) prereqs
	$(BIN)/pytest tests/integration

# The differential oracle (tests/differential) with random programs for FUZZ_MINUTES: each new difference
# from cassandra.cqlengine is printed with its shrunk program as found; the last line counts what ran.
# PYTHONPATH: this checkout's cqlengine is the one tested, whichever one the venv has installed.
FUZZ_MINUTES ?= 10
fuzz: $(STAMP) prereqs
	CQLENGINE_DIFF_PROFILE=differential-fuzz FUZZ_MINUTES=$(FUZZ_MINUTES) PYTHONPATH=$(CURDIR) \
	  $(BIN)/pytest tests/differential -p no:cacheprovider -q

bench: $(STAMP) prereqs
	$(BIN)/python -m cqlengine.testing start
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

start: $(STAMP) prereqs
	$(BIN)/python -m cqlengine.testing start

stop: $(STAMP)
	$(BIN)/python -m cqlengine.testing stop

status: $(STAMP)
	$(BIN)/python -m cqlengine.testing status

# Warnings are errors: a broken reference or a docstring sphinx cannot read fails the build.
docs: $(STAMP)
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

# The distributions as they would be published, checked by twine.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist . >dist-build.log 2>&1 || (tail -30 dist-build.log; exit 1)
	$(BIN)/twine check --strict dist/*
	@# setup.py is a shim for older tools: it must describe the package pyproject.toml does.
	test "$$($(BIN)/python setup.py --name --version 2>/dev/null | tail -2 | tr '\n' ' ')" = \
	  "cqlengine-mapper $$($(BIN)/python -c 'import cqlengine; print(cqlengine.__version__)') "

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache docs/_build
