# Two commands: `make dev` builds the dashboard and runs everything on embedded
# defaults; `make test` sets up and runs the whole suite (lint, types, the dashboard's
# component tests, tests on SQLite and on PostgreSQL + Redis, and the browser tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/hatchet
# The server's maintenance database, beside PG_URL's.
PG_ADMIN_URL := $(dir $(PG_URL))postgres
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
EMBEDDED := env -u DATABASE_URL -u REDIS_URL
SERVICES := env DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL)

NPM_STAMP := frontend/node_modules/.installed
SCHEMA := build/openapi.json

.PHONY: dev test setup frontend frontend-test chromium pgbouncer lint types test-embedded test-services \
	test-browser bench chaos clean pg-stat-statements

# Bytecode is compiled here, once: where PYTHONDONTWRITEBYTECODE is set, imports cache
# nothing, and compiling the dependencies at every start made a server take ~5 s of
# CPU to answer /healthz instead of ~1 s. Our own packages are compiled at each setup
# (only what changed), as edits make theirs stale.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	# Every installed package, also those uv found installed and left as they were (a few
	# packages ship files that are not Python 3, which compileall reports and skips).
	$(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
		> /dev/null || true
	touch $(STAMP)

setup: $(STAMP)
	$(PY) -m compileall -q hatchet workflows workers playground alerts examples > /dev/null

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# The dashboard, built into frontend/dist (served by Django at /).
frontend: $(NPM_STAMP)
	npm --prefix frontend run build

# Component tests, and the TypeScript API types checked against the server's schema.
frontend-test: setup $(NPM_STAMP)
	mkdir -p build
	$(EMBEDDED) $(PY) manage.py spectacular --format openapi-json --file $(SCHEMA)
	npm --prefix frontend run api-types -- --check $(CURDIR)/$(SCHEMA)
	npm --prefix frontend test

# Debian's Chromium for the browser tests (no browser download).
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Debian's PgBouncer, which tests/e2e/test_pgbouncer.py puts in front of PostgreSQL.
pgbouncer:
	command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer)

# PostgreSQL's own count of the statements it runs (pg_stat_statements), which the
# benchmark reports per step run (bench/README.md). Its library must be preloaded:
# where it is not yet, this adds it and restarts the local cluster, once.
pg-stat-statements:
	@psql "$(PG_ADMIN_URL)" -Atc "show shared_preload_libraries" | grep -q pg_stat_statements || { \
	  echo "preloading pg_stat_statements: restarting the local PostgreSQL cluster once"; \
	  loaded=$$(psql "$(PG_ADMIN_URL)" -Atc "show shared_preload_libraries"); \
	  psql "$(PG_ADMIN_URL)" -qc "ALTER SYSTEM SET shared_preload_libraries = '$${loaded:+$$loaded,}pg_stat_statements'" && \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main restart && \
	  for _ in $$(seq 1 30); do pg_isready -d "$(PG_ADMIN_URL)" -q && break; sleep 1; done; }

dev: setup frontend
	$(EMBEDDED) $(PY) manage.py dev

lint: setup $(NPM_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	npm --prefix frontend run lint

types: setup
	$(VENV)/bin/mypy hatchet workflows workers playground alerts examples tests bench

test-embedded: setup
	$(EMBEDDED) $(PY) -m pytest -m "not browser" -p no:cacheprovider --durations=20

test-services: setup pgbouncer pg-stat-statements
	$(SERVICES) $(PY) -m pytest -m "not browser" -p no:cacheprovider --durations=20

# Playwright for Python drives Chromium in its own pytest run (it clashes with asyncio).
test-browser: setup frontend chromium
	$(EMBEDDED) $(PY) -m pytest -m browser -p no:cacheprovider tests/browser

# The three pytest runs share no state (the embedded ones keep their SQLite files in
# temporary directories of their own, only the services run uses PostgreSQL and Redis,
# every server takes a free port) and spend much of their time waiting on the servers
# and workers they start, so they run side by side: ~20 minutes on 2 cores instead of
# ~35 one after the other. Each run's output comes out whole as it ends.
test: lint types frontend-test frontend chromium pgbouncer pg-stat-statements
	$(MAKE) -j3 --output-sync=target test-embedded test-services test-browser

# The benchmark (bench/README.md); e.g. `make bench BENCH_ARGS="--backend services --duration 60"`.
bench: setup pg-stat-statements
	$(PY) -m bench $(BENCH_ARGS)

# The fault suite's long form on both backends (docs/reliability.md; ~25 minutes); its
# short form runs in test-embedded and test-services. E.g. `make chaos CHAOS_ARGS="--backend services"`.
chaos: setup
	$(PY) -m tests.chaos --full --postgres-url $(PG_URL) $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .hatchet .mypy_cache .ruff_cache build frontend/node_modules frontend/dist
