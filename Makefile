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

.PHONY: demo test test-ui test-airflow2 lint dist smoke smoke-all smoke-versions sandbox fault-matrix bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e ".[dev]"
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

## fault-matrix: run the fault matrix in real Airflow and write docs/fault-matrix.md
fault-matrix: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/test_reliability.py -k fault_matrix -q --fault-report=docs/fault-matrix.md

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

clean:
	rm -rf $(VENV) $(VENV2) .venv-smoke dist .airflow .pytest_cache .mypy_cache .ruff_cache .hypothesis
