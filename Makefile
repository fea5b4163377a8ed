# One venv in .venv; every target runs inside it.
VENV ?= .venv
PY := $(VENV)/bin/python
export KEDRO_DISABLE_TELEMETRY := true

.PHONY: install run test lint benchmarks viz

install:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -e ".[dev]"

run:
	$(VENV)/bin/kedro run --pipeline training --env offline --params data_engineering.dump_path=../shared/data/btcusdt_1d.csv

test:
	$(PY) -m pytest

lint:
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

viz:
	$(VENV)/bin/kedro viz build
