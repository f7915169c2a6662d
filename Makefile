# Everything installs into this folder: a virtual environment in .venv and npm packages in
# node_modules. `make run` and `make test` are the two commands the README promises.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Tests run on both cores, each pytest-xdist worker on a database of its own; WORKERS=0 runs
# them in this one process (for -x, --pdb or -s).
WORKERS ?= 2

.PHONY: run test install install-test assets lint format typecheck check clean migration bench

run: install  ## Install, migrate, seed demo data and serve on SQLite
	$(BIN)/registry demo --host $(HOST) --port $(PORT)

test: install-test  ## Install the test tools and run the whole suite
	$(BIN)/pytest --numprocesses $(WORKERS) $(PYTEST_ARGS)

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	touch $@

assets: static/dist/registry.css

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/dist/registry.css: node_modules/.installed static/scss/registry.scss
	npm run --silent build

# The benchmark suite (issue 17): BENCH_ARGS="--engine sqlite --only P4,P6" or "--quick".
BENCH_ARGS ?=
bench: install-test  ## Run the benchmark suite; writes bench/RESULTS.md and the README's table
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk is missing: the throughput rows drive the service with it."; \
		echo "Install Debian's package:  apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-test  ## ruff and the type checker, as CI runs them
	$(BIN)/ruff check registry tests bench migrations
	$(BIN)/ruff format --check registry tests bench migrations
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format registry tests bench migrations
	$(BIN)/ruff check --fix registry tests bench migrations

check: lint test

clean:
	rm -rf $(VENV) node_modules static/dist .pytest_cache .mypy_cache .ruff_cache

migration: install-test  ## Write a migration for table changes: make migration DESC="what changed"
	PICCOLO_CONF=registry.piccolo_conf $(BIN)/piccolo migrations new registry --auto --desc="$(DESC)"
