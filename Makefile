# Entryway: `make dev` serves a development environment on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint format typecheck lock bench clean interop-deps fault-deps observability-deps

$(STAMP): requirements.lock pyproject.toml sdk/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip install --quiet --no-deps -e sdk/python
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/entryway dev

# Third-party peers for the interop tests: Debian's xmlsec1 (for pysaml2) and each tests/interop/*/package.json's
# npm packages, installed from their lock files.
interop-deps:
	@command -v xmlsec1 >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null); } || echo "xmlsec1 missing: install Debian's xmlsec1"
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || echo "chromium missing: install Debian's chromium (browser tests)"
	@for lock in tests/interop/*/package-lock.json; do \
	  [ -f "$$lock" ] || continue; dir=$$(dirname "$$lock"); \
	  [ "$$dir/node_modules/.package-lock.json" -nt "$$lock" ] || (cd "$$dir" && npm ci --silent --no-audit --no-fund); \
	done

# The fault tests (tests/operations) stop and restart a PostgreSQL and a Redis of their own, never the shared
# ones: they need Debian's server binaries (initdb/pg_ctl, redis-server), not running services.
fault-deps:
	@command -v ip >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null); } || echo "ip missing: install Debian's iproute2 (network partition tests)"
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null); } || echo "pg_ctl missing: install Debian's postgresql"
	@command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); } || echo "redis-server missing: install Debian's redis-server"

# The alerting rules' tests (tests/observability/test_alert_rules.py) run promtool and a prometheus of their own:
# Debian's prometheus package, not its service. Its node-exporter recommendation is left out, and where systemd
# runs, the service its postinst enables and starts is stopped and disabled again (elsewhere its init script stops it).
observability-deps:
	@command -v promtool >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null && { systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true; }); } || echo "promtool missing: install Debian's prometheus (apt-get install --no-install-recommends prometheus; no service needs to run)"

# The suite runs on SQLite and on PostgreSQL (ENTRYWAY_TEST_POSTGRES_URL, default the local `test` database).
test: $(STAMP) interop-deps fault-deps observability-deps
	$(BIN)/ruff check src tests bench sdk
	$(BIN)/ruff format --check src tests bench sdk
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q --durations=20 tests sdk/python/tests

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

# The benchmark (bench/README.md): Entryway against SAML Jackson (npm, from bench/jackson's lock file) in one run.
# BENCH_ARGS passes options through, e.g. `make bench BENCH_ARGS="--large-organizations 0"`.
bench: $(STAMP)
	@[ bench/jackson/node_modules/.package-lock.json -nt bench/jackson/package-lock.json ] || (cd bench/jackson && npm ci --silent --no-audit --no-fund)
	$(BIN)/python bench/login_flow.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data artifacts .pytest_cache .ruff_cache .mypy_cache
