# Two commands for a fresh clone: `make run` and `make test`. Everything else is here for operators.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MONITOR := $(BIN)/monitor
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
TIPG_STAMP := bench/.venv-tipg/.installed
PYTHON ?= python3

.PHONY: run test setup serve load db-up db-down db-reset lint bench clean

## run: install what is missing, start the database, load Rosario and the demo, serve on :8000 (PORT overrides)
run: setup
	$(MONITOR) db up
	$(MONITOR) load all
	$(MONITOR) serve

## test: the whole suite against a throwaway PostGIS database (never the user's data)
test: setup
	bash scripts/install-system-packages.sh test
	$(BIN)/pytest

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh runtime
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Front-end packages (MapLibre, pmtiles) from npm, exactly as locked.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

serve: setup
	$(MONITOR) serve

load: setup
	$(MONITOR) db up
	$(MONITOR) load all

db-up: setup
	$(MONITOR) db up

## db-down: stop the private cluster, keeping its data
db-down:
	$(MONITOR) db down

## db-reset: delete the private cluster and all its data
db-reset:
	$(MONITOR) db reset --yes

lint: setup
	$(BIN)/ruff check .

## bench: run benchmarks (BENCH='name ...'; none: list them) against tipg 1.6.1, installed beside them
bench: setup $(TIPG_STAMP)
	bash scripts/install-system-packages.sh bench
	$(BIN)/python -m bench $(BENCH)

# tipg, the peer the benchmarks compare with, in a virtualenv of its own (never in the project's).
$(TIPG_STAMP):
	$(PYTHON) -m venv bench/.venv-tipg
	bench/.venv-tipg/bin/pip install --quiet 'tipg==1.6.1' uvicorn
	touch $@

clean:
	rm -rf $(VENV) node_modules
