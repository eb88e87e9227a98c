# telehub — the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: install demo serve test test-postgres system-deps bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Fresh demo database with sample data, then serve it on http://127.0.0.1:8080/
demo: $(STAMP)
	$(BIN)/telehub demo

serve: $(STAMP)
	$(BIN)/telehub serve

## System packages the tests drive for real (Chromium, coturn), installed when missing.
system-deps:
	@bash .ci/system-deps

## The whole suite on SQLite (installs everything it needs first).
test: $(STAMP) system-deps
	$(BIN)/pytest

## The database-backed tests again on PostgreSQL (CI runs this after `make test`).
test-postgres: $(STAMP)
	TELEHUB_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser" tests/hub tests/store tests/web

bench: $(STAMP) system-deps
	$(BIN)/python -m tests.bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hub rota signalling media web

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
