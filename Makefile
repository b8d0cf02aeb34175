# One place for the commands the README and CI use. Everything installs itself into local
# virtual environments: .venv (Airflow 3.3, the default), .venv-airflow2 (Airflow 2.11) and, for the
# smoke runs of the built wheel, .venv-smoke/airflow-X.Y.Z.
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW2_VERSION ?= 2.11.2
# The latest patch release of every other supported minor: a smoke run each in CI (.ci/run).
SMOKE_VERSIONS ?= 2.10.5 3.0.6 3.1.8 3.2.2
VENV := .venv
VENV2 := .venv-airflow2
VENV_CELERY := .venv-celery
# apache-airflow-providers-celery 3.26.0 fails with celery 5.7 (cannot import 'retry' from celery.backends.database)
CELERY_PACKAGES := "apache-airflow-providers-celery==3.26.0" "celery[redis]==5.6.3" "kombu<5.7"

.PHONY: demo test test-ui test-airflow2 test-distributed test-events lint dist smoke smoke-all smoke-versions sandbox fault-matrix bench bench-deployment clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"
	touch $@

$(VENV_CELERY)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_CELERY)
	$(VENV_CELERY)/bin/pip install --quiet --upgrade pip
	$(VENV_CELERY)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" $(CELERY_PACKAGES) -e ".[test]"
	touch $@

$(VENV2)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/pip install --quiet --upgrade pip
	$(VENV2)/bin/pip install --quiet "apache-airflow==$(AIRFLOW2_VERSION)" -e ".[test]"
	touch $@

## demo: example DAGs through a real Airflow against the local VTEX sandbox
demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

## test: the whole test suite on Airflow 3.3
test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

## test-ui: only the browser tests of the Airflow UI (needs /usr/bin/chromium); part of `make test` too.
## VTEX_UI_SCREENSHOT_DIR=docs make test-ui refreshes the README's screenshots.
test-ui: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/ui

## test-airflow2: the whole test suite on Airflow 2.11
test-airflow2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest

## lint: ruff and mypy, as configured in pyproject.toml
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## test-distributed: 4,000 invoices on two Celery workers (Redis broker) within the account's request budget.
## Installs Debian's redis-server if missing and the Celery provider into .venv-celery (a few minutes).
test-distributed: $(VENV_CELERY)/.installed
	@command -v redis-server >/dev/null 2>&1 || { \
		SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }
	VTEX_DISTRIBUTED_REQUIRED=1 $(VENV_CELERY)/bin/python -m pytest tests/deployment/test_distributed.py -p no:cacheprovider

## test-events: the event-driven deployment tests in real Airflow 3.3 (a few minutes each): 300 orders start
## DAG runs by themselves through the asset watcher (triggerer SIGKILLed three times), 500 feed events
## read and committed with tasks killed between, 200 sensors deferred. DATABASE=sqlite (default) or
## postgresql: Debian's PostgreSQL server is installed if missing, and psycopg 3 into .venv (the
## deployment's driver, not a dependency of the package).
DATABASE ?= sqlite
EVENT_TESTS ?= tests/deployment/test_event_driven.py tests/deployment/test_feed_at_least_once.py \
	tests/deployment/test_deferrable_sensors.py
test-events: $(VENV)/.installed
	@if [ "$(DATABASE)" = postgresql ]; then \
		command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
			SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
			$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; }; \
		$(VENV)/bin/pip install --quiet "psycopg[binary]>=3.2,<4"; \
	fi
	VTEX_EVENT_TESTS=1 VTEX_TEST_DATABASE=$(DATABASE) $(VENV)/bin/python -m pytest -p no:cacheprovider $(EVENT_TESTS)

## fault-matrix: the fault matrix in real Airflow (VTEX visibility delays 0, 10 and 25 s; about 10 minutes),
## written to docs/fault-matrix.md
fault-matrix: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider --fault-delays=0,10,25 --fault-report=docs/fault-matrix.md \
		tests/deployment/test_crash_recovery.py tests/test_reliability.py::test_fault_matrix \
		tests/test_bulk.py::test_5000_invoices_with_one_answer_in_ten_faulted_are_all_delivered_once \
		tests/test_bulk.py::test_truncated_answers_during_a_bulk_run_neither_abort_it_nor_duplicate \
		tests/test_bulk.py::test_a_total_outage_stops_the_chunk_early_and_fails_it_retryably tests/test_security.py

## dist: build the wheel and the sdist into dist/ (offline: .venv's build and hatchling, no isolation)
dist: $(VENV)/.installed
	rm -rf dist
	$(VENV)/bin/python -m build --no-isolation --outdir dist .

## smoke: the built wheel in a fresh venv with one Airflow, e.g. `make smoke AIRFLOW=3.1.8`:
## providers list, connection form, `airflow connections test`, every example DAG (scripts/smoke.sh)
smoke: dist
	@if [ -z "$(AIRFLOW)" ]; then echo "usage: make smoke AIRFLOW=X.Y.Z (CI runs: $(SMOKE_VERSIONS))" >&2; exit 2; fi
	PYTHON=$(PYTHON) bash scripts/smoke.sh $(AIRFLOW)

## smoke-all: the smoke run on each of $(SMOKE_VERSIONS)
smoke-all: dist
	for version in $(SMOKE_VERSIONS); do PYTHON=$(PYTHON) bash scripts/smoke.sh $$version || exit 1; done

smoke-versions:
	@echo $(SMOKE_VERSIONS)

## sandbox: serve the VTEX OMS sandbox on http://127.0.0.1:8089 until Ctrl-C
sandbox: $(VENV)/.installed
	$(VENV)/bin/vtex-sandbox --port 8089

## bench: the benchmarks (ratios measured side by side in one run; they print, they assert nothing).
## apache-airflow-providers-http goes into .venv for the HttpHook comparison only: not a dependency.
bench: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet apache-airflow-providers-http "apache-airflow==$(AIRFLOW_VERSION)"
	$(VENV)/bin/python benchmarks/bench_overhead.py
	$(VENV)/bin/python benchmarks/bench_import.py
	$(VENV)/bin/python benchmarks/bench_bulk.py
	$(VENV)/bin/python benchmarks/bench_memory.py

## bench-deployment: the benchmarks in a real Airflow 3.3 deployment (about 25 minutes): event-driven runs vs
## a DAG polling the feed every minute (latency, throughput), and 200 order-status sensors deferred vs
## rescheduled vs poking (worker-slot-seconds, wall time)
bench-deployment: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_events.py
	$(VENV)/bin/python benchmarks/bench_sensors.py

clean:
	rm -rf $(VENV) $(VENV2) $(VENV_CELERY) .venv-smoke dist .airflow .pytest_cache .mypy_cache .ruff_cache .hypothesis

## docs: the documentation site into site/ (mkdocs build --strict: a warning fails it). Installs the pinned
## docs/requirements.txt into .venv first (uv if on PATH, else .venv's pip).
.PHONY: docs
$(VENV)/.docs-installed: $(VENV)/.installed docs/requirements.txt
	if command -v uv >/dev/null 2>&1; then uv pip install --quiet -p $(VENV)/bin/python -r docs/requirements.txt; \
	else $(VENV)/bin/python -m pip install --quiet -r docs/requirements.txt; fi
	touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
