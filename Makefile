# One place for the commands the README and CI use. Everything installs itself into local
# virtual environments: .venv (Airflow 3.3, the default) and .venv-airflow2 (Airflow 2.11).
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW2_VERSION ?= 2.11.2
VENV := .venv
VENV2 := .venv-airflow2

.PHONY: demo test test-ui test-airflow2 lint sandbox fault-matrix bench clean

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
	rm -rf $(VENV) $(VENV2) .airflow .pytest_cache .mypy_cache .ruff_cache .hypothesis
