# telehub — the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: install demo serve test test-postgres system-deps bench fuzz lint format clean wheel-check

$(STAMP): pyproject.toml media/relay/_fastpath.c
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

## The whole suite on SQLite (installs everything it needs first) with pytest-xdist, one
## worker more than there are cores (PYTEST_WORKERS=0 runs it in one process): the
## browser tests spend much of their time waiting on real time (ICE, a network drop, a
## call's step-down window), and a third worker on two cores fills those waits. Each test
## file is one unit of work (--dist loadfile), so a browser module starts its server and
## Chromium once; the few modules that keep both cores busy by themselves share one unit
## (HEAVY_MEDIA in tests/conftest.py) and so never run beside each other. The figures
## are in docs/testing.md.
## Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE=1
## on these machines): the suite starts some sixty Python processes on the same sources
## (workers, telehub servers, media processes, CLI runs), and pytest rewrites the
## asserts of every test module in each worker. A second run collects in 4.0 s a
## worker instead of 8.2 s; a clean clone's run shares what its first processes
## compile. The cache is __pycache__/ (git ignores it).
## The heavy unit goes first and the rest follow in the order they are collected
## (--no-loadscope-reorder; pytest-xdist would otherwise start the files with the most
## tests, which puts the heavy unit, with few, last, where it would be the run's tail).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
XDIST := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
test: $(STAMP) system-deps
	$(PYTEST) $(XDIST)

## The database-backed tests again on PostgreSQL (CI runs this after `make test`), one
## worker per core: no browser waits here to fill.
test-postgres: $(STAMP)
	TELEHUB_TEST_DATABASE_URL=$(PG_URL) $(PYTEST) -n $(shell nproc) --dist loadfile -m "not browser" tests/hub tests/store tests/web tests/signalling/test_outages.py tests/abuse

bench: $(STAMP) system-deps
	$(BIN)/python -m tests.bench

## Hypothesis fuzzing of the input parsers (signalling messages, call-log CSV, rota
## problems) with thousands of examples each; `make test` runs the same with small counts.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -q tests/fuzz -p no:randomly

## The browser code's tools (ESLint, from package-lock.json): installed again when the
## lock file changes or node_modules is missing.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

lint: $(STAMP) $(NODE_STAMP)
	npx eslint web/static/js tests/js
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy hub rota signalling media web

## Unit tests of the browser modules without a DOM (node --test; pytest runs them too,
## in tests/web/test_browser_modules_js.py).
.PHONY: test-js
test-js:
	node --test tests/js/

## Build the wheel, install it in a fresh venv outside the checkout, migrate and serve it.
wheel-check:
	PYTHON=$(PYTHON) bash .ci/wheel-check

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
