# Entryway: `make dev` serves a development environment on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint format typecheck lock bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/entryway dev

# The suite runs on SQLite and on PostgreSQL (ENTRYWAY_TEST_POSTGRES_URL, default the local `test` database).
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-header -o requirements.lock

bench: $(STAMP)
	$(BIN)/python bench/login_flow.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
