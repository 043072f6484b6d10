# Two commands: `make dev` runs everything on embedded defaults; `make test` sets up
# and runs the whole suite (lint, types, tests on SQLite and on PostgreSQL + Redis).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/hatchet
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
EMBEDDED := env -u DATABASE_URL -u REDIS_URL
SERVICES := env DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL)

.PHONY: dev test setup lint types test-embedded test-services bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip uv
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

dev: setup
	$(EMBEDDED) $(PY) manage.py dev

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: setup
	$(VENV)/bin/mypy hatchet workflows workers playground examples tests bench

test-embedded: setup
	$(EMBEDDED) $(PY) -m pytest -m "not browser" -p no:cacheprovider

test-services: setup
	$(SERVICES) $(PY) -m pytest -m "not browser" -p no:cacheprovider

test: lint types test-embedded test-services

# The benchmark (bench/README.md); e.g. `make bench BENCH_ARGS="--backend services --duration 60"`.
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .hatchet .mypy_cache .ruff_cache
