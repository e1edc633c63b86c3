# The two commands a newcomer needs: `make demo` and `make test`. Each creates .venv and installs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean bench lock audit

# Installs exactly the locked, hashed versions (requirements.lock); pyproject.toml keeps the
# compatible ranges for people who use wefirst as a library. `make lock` refreshes the lock.
LOCK := requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet "pip-tools>=7.4,<8"
	$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

# Known vulnerabilities in the lock (pip-audit); skips with a message where offline.
audit: $(STAMP)
	PY=$(BIN)/python scripts/audit.sh

# axe-core for the accessibility checks of the browser tests (the demo does not need npm).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/wefirst demo

# Each database's suite runs on PYTEST_WORKERS processes (pytest-xdist; PYTEST_WORKERS=0 runs it
# in this process; every worker has its own SQLite file or PostgreSQL schema). The PostgreSQL pass
# runs the tests that reach a database: the others do not read WEFIRST_TEST_DATABASE_URL and have
# run on the SQLite pass (tests/conftest.py deselects them and pytest says how many).
PYTEST_WORKERS ?= 2

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	@echo "== suite on SQLite =="
	env -u WEFIRST_TEST_DATABASE_URL $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@if [ -n "$$WEFIRST_TEST_DATABASE_URL" ]; then \
	  echo "== suite on PostgreSQL ($$WEFIRST_TEST_DATABASE_URL) =="; \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules wefirst.db wefirst.db-wal wefirst.db-shm
