# cablelake: the two commands are `make run` and `make test` (each creates .venv and installs first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAKE ?= lake
export AIRFLOW_HOME := $(CURDIR)/.airflow
export GX_ANALYTICS_ENABLED := False

.PHONY: run test lint typecheck pytest bench clean browser postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[airflow,bi,dev]'
	touch $(STAMP)

## run: install, run the nightly DAG once on the bundled sample dump, print what it made
run: $(STAMP)
	$(PY) scripts/run_sample.py --lake $(LAKE)

## test: install, lint, type-check and run the whole suite
test: $(STAMP) browser postgres lint typecheck pytest

## browser: Debian's Chromium for the dashboard's headless-browser tests (installed only when missing)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	fi

## postgres: Debian's PostgreSQL server binaries for the real-scheduler test, which starts a private cluster
## itself (installed only when missing; no cluster is created or started by the package)
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-common && \
	  sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check etl dags tests scripts bench
	$(VENV)/bin/ruff check --select AIR3 dags

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

## bench: the Cablegate-scale benchmark on every real cable of the corpus (251,287 rows; about 10 minutes alone,
## ~2.5 GB of scratch in .bench/); figures also go to .bench/last.json. Compare with a saved run:
## make bench BENCH_ARGS="--compare .bench/runs/OLD.json"
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) bench/scale.py $(BENCH_ARGS)

clean:
	rm -rf $(LAKE) .airflow .pytest_cache .mypy_cache .ruff_cache
