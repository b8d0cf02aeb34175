# One place for the commands the README and CI use. Everything installs itself with uv into local
# virtual environments: .venv (Airflow 3.3, the default), .venv-airflow2 (Airflow 2.11), .venv-lowest
# (the lowest versions the metadata allows), .venv-celery and, for the smoke runs of the built wheels,
# .venv-smoke/airflow-X.Y.Z. Every environment but .venv-lowest installs the versions pinned in
# constraints/lock-airflow-X.Y.Z.txt (`make lock` refreshes them, on purpose: scripts/lock.sh).
# Python may cache bytecode in our environments whatever the shell says: with PYTHONDONTWRITEBYTECODE=1
# (set on CI's machines) every Airflow process of the tests, the demo and the deployments compiled
# Airflow from source at start, 5 to 8 s of CPU each (measured: the smoke run's CLI call, 6.5-8 s -> 2.3 s).
unexport PYTHONDONTWRITEBYTECODE
PYTHON ?= python3
# uv from PATH, or else this release installed with pip into .venv-uv on first use: `make demo` and
# `make test` need only Python and make.
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.venv-uv/bin/uv)
AIRFLOW_VERSION ?= 3.3.2
AIRFLOW2_VERSION ?= 2.11.2
# The latest patch release of every other supported minor: a smoke run each in CI (.ci/run).
SMOKE_VERSIONS ?= 3.0.6 3.1.8 3.2.2
# pytest-xdist workers for the provider's suites: each worker has its own Airflow home and SQLite database
# (tests/conftest.py makes one per process); a test file stays on one worker (--dist loadfile), so its
# module fixtures are built once. Three on two cores: the suite waits on clocks a third of its time
# (Retry-After, rate caps, VTEX's visibility delays, the API server and browser of the UI tests), which a
# third worker fills (measured on 2 cores: 2:13 with two workers, 1:51 with three, 1:55 with four, where
# the longest file, the UI's, sets the end). tests/deployment runs after them, never beside them: its crash
# tests time real Airflow processes (heartbeat timeouts, retries, `airflow tasks clear`) that a busy worker
# beside them stretched past their timeouts (tried: a bulk retry that started after VTEX's window, a CLI
# clear that timed out after 120 s). The sandbox's suite, light and Airflow-free, runs beside them.
TEST_WORKERS ?= 3
PYTEST_XDIST := -n $(TEST_WORKERS) --dist loadfile
VENV := .venv
VENV2 := .venv-airflow2
VENV_LOWEST := .venv-lowest
VENV_CELERY := .venv-celery
LOCK = constraints/lock-airflow-$(1).txt
# apache-airflow-providers-celery 3.26.0 fails with celery 5.7 (cannot import 'retry' from celery.backends.database)
CELERY_PACKAGES := "apache-airflow-providers-celery==3.26.0" "celery[redis]==5.6.3" "kombu<5.7"
UV_INSTALL = $(UV) pip install --quiet --python $(1)/bin/python
# The runs on other versions (Airflow 2.11, the lowest versions) prove that the same code behaves the same
# there; the counts that make a property or a soak thorough run once, on Airflow 3.3 (make test): a tenth of
# the property tests' examples (tests/conftest.py) and a bulk soak of 200 invoices instead of 1,000.
COMPAT_RUN := --hypothesis-profile=compat --soak-invoices=200
# The provider's suite on Airflow 3.3 but tests/deployment (which runs after it: see TEST_WORKERS).
PROVIDER_SUITE = $(VENV)/bin/python -m pytest $(PYTEST_XDIST) --ignore=tests/deployment
# The unit suite: no real DAG runs (airflow_dag), no browser (tests/ui), no deployment (tests/deployment).
UNIT_TESTS := tests --ignore=tests/ui --ignore=tests/deployment -m "not airflow_dag"

.PHONY: demo demo-ui test-vtex-page test test-provider test-deployment test-sandbox test-ui test-airflow2 test-lowest test-distributed test-events test-hook \
	lint lock dist smoke smoke-all smoke-versions sandbox fault-matrix bench bench-deployment clean

$(VENV)/.installed: pyproject.toml sandbox/pyproject.toml $(call LOCK,$(AIRFLOW_VERSION)) | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(VENV)
	$(call UV_INSTALL,$(VENV)) -c $(call LOCK,$(AIRFLOW_VERSION)) "apache-airflow==$(AIRFLOW_VERSION)" \
		-e ".[dev]" -e "./sandbox[test]"
	# The sandbox's `clients` extra (a real client its tests run against), without its dependency pins:
	# vtexpy's cachetools<8 / python-dateutil<3 clash with the lock, and it runs with the locked versions.
	$(call UV_INSTALL,$(VENV)) --no-deps "vtexpy==0.0.0b47"
	touch $@

$(VENV_CELERY)/.installed: pyproject.toml sandbox/pyproject.toml $(call LOCK,$(AIRFLOW_VERSION)) | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(VENV_CELERY)
	$(call UV_INSTALL,$(VENV_CELERY)) -c $(call LOCK,$(AIRFLOW_VERSION)) "apache-airflow==$(AIRFLOW_VERSION)" \
		$(CELERY_PACKAGES) -e ".[test]"
	touch $@

$(VENV2)/.installed: pyproject.toml sandbox/pyproject.toml $(call LOCK,$(AIRFLOW2_VERSION)) | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(VENV2)
	$(call UV_INSTALL,$(VENV2)) -c $(call LOCK,$(AIRFLOW2_VERSION)) "apache-airflow==$(AIRFLOW2_VERSION)" -e ".[test]"
	touch $@

# The lowest version of each direct dependency (the provider's and its test extra's, Airflow included:
# 2.11.0), the newest of the rest, as Airflow's providers test theirs (apache/airflow PR #39946).
# Resolved fresh, not from a lock: what it proves is that the declared floors are true today.
$(VENV_LOWEST)/.installed: pyproject.toml sandbox/pyproject.toml | $(UV)
	$(UV) venv --quiet --clear --python $(PYTHON) $(VENV_LOWEST)
	$(call UV_INSTALL,$(VENV_LOWEST)) --resolution lowest-direct -e ".[test]"
	touch $@

$(CURDIR)/.venv-uv/bin/uv:
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

## demo: example DAGs through a real Airflow against the local VTEX sandbox
demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

## demo-ui: the demo, then Airflow's UI (API server) and the sandbox until Ctrl-C: open VTEX in the UI's
## navigation to see the demo's orders, its stuck order and its refused invoice (docs/vtex-page.md)
demo-ui: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py --serve

## test: the whole test suite on Airflow 3.3: the provider's (unit, integration and the UI in a browser, on
## three workers), then its crash tests in a real deployment with, beside them, the sandbox's suite (the
## deployment mostly waits on Airflow's clocks; each part's output is printed whole when it ends)
test: $(VENV)/.installed
	$(PROVIDER_SUITE)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-deployment test-sandbox

## test-provider: the provider's tests on Airflow 3.3: three workers, then tests/deployment alone
test-provider: $(VENV)/.installed
	$(PROVIDER_SUITE)
	$(MAKE) --no-print-directory test-deployment

## test-deployment: tests/deployment in one process: the crash tests in real Airflow; the event-driven and
## distributed ones skip unless asked for (make test-events, make test-distributed)
test-deployment: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/deployment

## test-sandbox: the sandbox's own tests (sandbox/tests; they need no Airflow, so they run once, here): two
## workers, then the schemathesis conformance tests in one process (schemathesis names its generated tests
## alike, and pytest-xdist would run one of each name)
test-sandbox: $(VENV)/.installed
	cd sandbox && ../$(VENV)/bin/python -m pytest $(PYTEST_XDIST) --ignore=tests/test_conformance.py
	cd sandbox && ../$(VENV)/bin/python -m pytest tests/test_conformance.py

## test-ui: only the browser tests of the Airflow UI (needs /usr/bin/chromium); part of `make test` too.
## VTEX_UI_SCREENSHOT_DIR=docs make test-ui refreshes the README's screenshots.
test-ui: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/ui

## test-vtex-page: the VTEX page (Airflow 3.1+) in Chromium against a real API server with sign-in and the
## sandbox: a refused invoice, a throttled drain, a stuck order (a deployment: about 2-4 minutes).
## VTEX_UI_SCREENSHOT_DIR=docs make test-vtex-page refreshes docs/vtex-page*.png.
test-vtex-page: $(VENV)/.installed
	VTEX_PAGE_TESTS=1 $(VENV)/bin/python -m pytest -p no:cacheprovider tests/ui/test_vtex_page.py

## test-airflow2: the provider's test suite on Airflow 2.11 (the sandbox's has no Airflow: `make test` runs it;
## tests/deployment needs Airflow 3's API server and task SDK, so it collects nothing here)
test-airflow2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest $(PYTEST_XDIST) $(COMPAT_RUN) --ignore=tests/deployment

## test-lowest: the unit suite with the lowest versions the metadata allows (Airflow 2.11.0, pydantic 2.11.0...)
test-lowest: $(VENV_LOWEST)/.installed
	$(VENV_LOWEST)/bin/python -m pytest $(PYTEST_XDIST) $(COMPAT_RUN) $(UNIT_TESTS)

## lint: ruff, mypy --strict and deptry (every imported third-party module declared), as configured in
## pyproject.toml: mypy checks the package with its tests, example DAGs, scripts and benchmarks, then runs
## again in sandbox/ for the sandbox and its tests (its own configuration: both test packages are `tests`)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd sandbox && ../$(VENV)/bin/mypy
	$(VENV)/bin/deptry .
	cd sandbox && ../$(VENV)/bin/deptry .

## lock: refresh constraints/lock-airflow-*.txt from the index (on purpose: review and commit the diff)
lock: | $(UV)
	AIRFLOW_VERSIONS="$(AIRFLOW_VERSION) $(AIRFLOW2_VERSION) $(SMOKE_VERSIONS)" UV=$(UV) bash scripts/lock.sh

## test-distributed: 4,000 invoices on two Celery workers (Redis broker) within the account's request budget.
## Installs Debian's redis-server if missing and the Celery provider into .venv-celery (a few minutes).
test-distributed: $(VENV_CELERY)/.installed
	@command -v redis-server >/dev/null 2>&1 || { \
		SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }
	VTEX_DISTRIBUTED_REQUIRED=1 $(VENV_CELERY)/bin/python -m pytest tests/deployment/test_distributed.py -p no:cacheprovider

## test-events: the event-driven deployment tests in real Airflow 3.3, a deployment per module (Airflow's schema
## migrated once and copied for each). On both databases: 5,000 orders waiting at once drain through the asset
## watcher, then 5,000 more with the triggerer SIGKILLed three times (Airflow's default per-watcher queue,
## 1,024: the backlog is 25 times the trigger's bound of 200 and 4.9 times the queue, the issue's case). On
## SQLite: 50 sensors on 2 worker slots deferred, then rescheduled (25 times the slots, as 200 on 8 were); the
## order hook: 300 changes pushed into the API server's receiver (feed as backup, every third pushed twice)
## with the API server SIGKILLed twice (VTEX_HOOK_ORDERS=5000 for the issue's figure). On
## PostgreSQL: 500 feed events read and committed with tasks killed between, then 2,500 orders
## through the polling loop. DATABASE=sqlite (default) or
## postgresql: Debian's PostgreSQL server is installed if missing (one server for the run, a database per
## deployment), and psycopg 3 into .venv (the deployment's driver, not a dependency of the package).
## EVENT_TESTS="..." runs other modules (any of them runs on either database).
DATABASE ?= sqlite
# Which modules on which database: the event-driven backlogs on both (Airflow's event path differs on
# PostgreSQL: SKIP LOCKED row locks, ON CONFLICT upserts of queued asset events). The polling loop's on
# PostgreSQL only: its runs are triggered by hand and its killed tasks retried by Airflow's ordinary task
# path, which the event-driven runs take on both; what it proves is the provider's (commit after start,
# nothing started twice). The sensors on SQLite only: their waiting does not depend on the database.
# The order hook's module (HOOK_TESTS= leaves it out: CI runs it as its own stage, make test-hook).
HOOK_TESTS := tests/deployment/test_order_hook.py
EVENT_TESTS_sqlite := tests/deployment/test_event_driven.py tests/deployment/test_deferrable_sensors.py \
	$(HOOK_TESTS)
EVENT_TESTS_postgresql := tests/deployment/test_event_driven.py tests/deployment/test_feed_at_least_once.py
EVENT_TESTS ?= $(EVENT_TESTS_$(DATABASE))
test-events: $(VENV)/.installed
	@if [ -z "$(EVENT_TESTS)" ]; then echo "make test-events: DATABASE=sqlite or postgresql, not '$(DATABASE)'" >&2; exit 2; fi
	@if [ "$(DATABASE)" = postgresql ]; then \
		command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
			SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
			$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; }; \
		$(call UV_INSTALL,$(VENV)) "psycopg[binary]>=3.2,<4"; \
	fi
	VTEX_EVENT_TESTS=1 VTEX_TEST_DATABASE=$(DATABASE) $(VENV)/bin/python -m pytest -p no:cacheprovider $(EVENT_TESTS)

## test-hook: the order hook's deployment test alone (part of test-events on SQLite): HOOK_ORDERS changes pushed
## (default 300) into the API server's receiver with the feed as its backup (via_receiver), the API server
## SIGKILLed twice; 0 lost, 0 stored twice, 0 handed to the ERP twice. About 3 minutes here at 300 or 5,000.
HOOK_ORDERS ?= 300
test-hook: $(VENV)/.installed
	VTEX_HOOK_ORDERS=$(HOOK_ORDERS) $(MAKE) --no-print-directory test-events DATABASE=sqlite EVENT_TESTS=$(HOOK_TESTS)

## fault-matrix: the fault matrix in real Airflow (VTEX visibility delays 0, 10 and 25 s; about 10 minutes),
## written to docs/fault-matrix.md
fault-matrix: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider --fault-delays=0,10,25 --soak-invoices=5000 --fault-report=docs/fault-matrix.md \
		tests/deployment/test_crash_recovery.py tests/integration/test_reliability.py::test_fault_matrix \
		tests/integration/test_bulk.py::test_a_bulk_soak_with_one_answer_in_ten_faulted_delivers_every_invoice_once \
		tests/integration/test_bulk.py::test_truncated_answers_during_a_bulk_run_neither_abort_it_nor_duplicate \
		tests/integration/test_bulk.py::test_a_total_outage_stops_the_chunk_early_and_fails_it_retryably tests/integration/test_security.py

## dist: build the wheels and sdists of both distributions into dist/ (offline: .venv's build and
## hatchling, no isolation): airflow-provider-vtex and vtex-sandbox
dist: $(VENV)/.installed
	rm -rf dist
	$(VENV)/bin/python -m build --no-isolation --outdir dist .
	$(VENV)/bin/python -m build --no-isolation --outdir dist sandbox

## smoke: the built wheels in a fresh venv with one Airflow, e.g. `make smoke AIRFLOW=3.1.8`:
## providers list, connection form, connection test, every example DAG as `make demo` runs them (scripts/smoke.sh)
smoke: dist
	@if [ -z "$(AIRFLOW)" ]; then echo "usage: make smoke AIRFLOW=X.Y.Z (CI runs: $(SMOKE_VERSIONS))" >&2; exit 2; fi
	PYTHON=$(PYTHON) UV=$(UV) bash scripts/smoke.sh $(AIRFLOW)

## smoke-all: the smoke run on each of $(SMOKE_VERSIONS)
smoke-all: dist
	for version in $(SMOKE_VERSIONS); do PYTHON=$(PYTHON) UV=$(UV) bash scripts/smoke.sh $$version || exit 1; done

smoke-versions:
	@echo $(SMOKE_VERSIONS)

## sandbox: serve the VTEX OMS sandbox on http://127.0.0.1:8089 until Ctrl-C
sandbox: $(VENV)/.installed
	$(VENV)/bin/vtex-sandbox --port 8089

## bench: the benchmarks (ratios measured side by side in one run; they print, they assert nothing).
## apache-airflow-providers-http goes into .venv for the HttpHook comparison only: not a dependency.
bench: $(VENV)/.installed
	$(call UV_INSTALL,$(VENV)) -c $(call LOCK,$(AIRFLOW_VERSION)) apache-airflow-providers-http "apache-airflow==$(AIRFLOW_VERSION)"
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
	rm -rf $(VENV) $(VENV2) $(VENV_LOWEST) $(VENV_CELERY) .venv-smoke .venv-uv dist .airflow .pytest_cache .mypy_cache sandbox/.mypy_cache .ruff_cache .hypothesis

## docs: the documentation site into site/ (mkdocs build --strict: a warning fails it), after installing
## the pinned docs/requirements.txt into .venv (under Airflow's lock, so it moves none of Airflow's pins).
.PHONY: docs
$(VENV)/.docs-installed: $(VENV)/.installed docs/requirements.txt | $(UV)
	$(call UV_INSTALL,$(VENV)) -c $(call LOCK,$(AIRFLOW_VERSION)) -r docs/requirements.txt
	touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
