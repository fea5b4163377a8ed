# One venv in .venv; every target runs inside it. `make run`, `make test`, `make lint` and
# `make viz` create it first when it is missing, or re-install when pyproject.toml or
# requirements.lock changed since (the stamp file .venv/.installed records the install).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON_VERSION = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export KEDRO_DISABLE_TELEMETRY := true

.PHONY: install run test test-fast test-airflow lint viz lock serve forecast notebook daily browser docs \
	airflow airflow-dags

# pyproject.toml keeps the version ranges; requirements.lock (constraints, not requirements)
# pins every package to the versions .ci/run passed with.
install:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -c requirements.lock -e ".[dev]"
	touch $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(MAKE) install

run: $(STAMP)
	$(VENV)/bin/kedro run --pipelines training --env offline

# Two pytest-xdist workers (one per core): slow tests start first, trained projects are
# built once per session and copied (tests/support/trained.py). The 20 slowest are listed
# at the end, to see where the ten-minute budget goes. Chromium first, for the report's
# browser test (make browser).
test: $(STAMP) browser
	$(PY) -m pytest -n 2 --dist worksteal -m "not airflow" --durations=20

# `airflow dags test` of the daily DAG on a trained project, from Airflow's own venv
# (.venv-airflow, or one built once per machine in the temp folder: ~5 minutes).
test-airflow: $(STAMP)
	$(PY) -m pytest -m airflow

# The inner loop: every test that starts no kedro run, server or training (-m "not slow").
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 --dist worksteal -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports

# The staging model of mlflow.db over HTTP on 127.0.0.1:5001 (after make run); Ctrl-C stops.
serve: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" MLFLOW_TRACKING_URI=sqlite:///mlflow.db \
	    $(VENV)/bin/mlflow models serve -m "models:/btc_candle_forecaster@staging" \
	    --env-manager local -h 127.0.0.1 -p 5001

# The latest 600 candles sent to `make serve`; prints the forecast table.
forecast: $(STAMP)
	$(PY) scripts/forecast.py

# JupyterLab with the Kedro kernel (catalog, context, pipelines loaded) on 127.0.0.1:8888;
# open notebooks/01_forecast_tour.ipynb after make run.
notebook: $(STAMP)
	$(VENV)/bin/kedro jupyter lab --ip 127.0.0.1 --no-browser

# The daily loop (docs/operations.md): fresh candles, the staging and the champion
# forecasts recorded in the ledger, then every recorded forecast whose candle has closed
# scored. A timer runs it once a day after the daily candle closes (deploy/systemd/).
# KEDRO_ARGS="--env team" for the team set-up.
daily: $(STAMP)
	$(VENV)/bin/kedro run --pipelines forecast $(KEDRO_ARGS)
	$(VENV)/bin/kedro run --pipelines inference --params inference.model_alias=champion $(KEDRO_ARGS)
	$(VENV)/bin/kedro run --pipelines monitor $(KEDRO_ARGS)

# Apache Airflow in its own venv, .venv-airflow: Airflow 3.3.2 needs fastapi<0.137 and
# requirements.lock pins 0.165.0, so the two never share a venv. The DAGs' tasks run
# `kedro run` from .venv (deploy/airflow/dag_template.j2). deploy/airflow/constraints.txt
# pins what `airflow dags test` passed with; kedro-airflow (which `make airflow-dags` runs
# from .venv) goes to .venv-airflow/kedro-plugins, outside both venvs' packages.
AIRFLOW_VENV ?= .venv-airflow
AIRFLOW_VERSION = 3.3.2
KEDRO_AIRFLOW_VERSION = 0.11.0
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

airflow: $(AIRFLOW_STAMP)

$(AIRFLOW_STAMP): deploy/airflow/constraints.txt
	python3 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --progress-bar off \
	    -c deploy/airflow/constraints.txt "apache-airflow==$(AIRFLOW_VERSION)"
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --progress-bar off --no-deps --upgrade \
	    --target $(AIRFLOW_VENV)/kedro-plugins "kedro-airflow==$(KEDRO_AIRFLOW_VERSION)"
	touch $(AIRFLOW_STAMP)

# The DAGs of deploy/airflow/dags from conf/base/airflow.yml and the template, with
# kedro-airflow. KEDRO_ARGS="--env team" makes DAGs whose default environment is team.
airflow-dags: $(STAMP) $(AIRFLOW_STAMP)
	PYTHONPATH="$(CURDIR)/$(AIRFLOW_VENV)/kedro-plugins$${PYTHONPATH:+:$$PYTHONPATH}" \
	    $(VENV)/bin/kedro airflow create --pipelines forecast,training \
	    -j deploy/airflow/dag_template.j2 -t deploy/airflow/dags $(KEDRO_ARGS)

# Headless Chromium for the report's browser test (tests/pipelines/monitor), from Debian.
browser:
	command -v chromium >/dev/null || apt-get install -y --no-install-recommends chromium \
	    || { apt-get update && apt-get install -y --no-install-recommends chromium; }

# The docs site (mkdocs.yml, docs/) on 127.0.0.1:8000, rebuilt on every save; .ci/run
# builds it with --strict. The benchmark tables come from benchmarks/doc_tables.py.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve -a 127.0.0.1:8000

viz: $(STAMP)
	$(VENV)/bin/kedro viz build

# Re-pin requirements.lock to what .venv holds now (after a green .ci/run). The pins apply
# to this Python version only; on another one pip resolves pyproject.toml's ranges.
lock: $(STAMP)
	( echo "# Exact versions of every dependency, frozen from .venv by make lock (CPython $(PYTHON_VERSION), Linux x86_64)."; \
	  echo "# A pip constraints file used by make install (pip install -c requirements.lock -e \".[dev]\");"; \
	  echo "# pyproject.toml keeps the ranges. Regenerate with: make lock"; \
	  $(PY) -m pip freeze --exclude-editable | sed 's/$$/ ; python_version == "$(PYTHON_VERSION)"/' \
	) > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock
	touch $(STAMP)
