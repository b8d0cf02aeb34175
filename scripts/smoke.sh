#!/usr/bin/env bash
# Smoke run of the BUILT WHEELS on one Airflow version, as a user would install them:
#
#   scripts/smoke.sh 3.1.8            (or: make smoke AIRFLOW=3.1.8; make smoke-all for every version)
#
# 1. a fresh venv .venv-smoke/airflow-VERSION (uv) with apache-airflow==VERSION, the provider's wheel and
#    the sandbox's (the demo's fake VTEX), at the versions pinned in constraints/lock-airflow-VERSION.txt
#    (`make lock`; it honours the hand-written pins of constraints/airflow-VERSION.txt);
# 2. one Python process, scripts/demo.py --smoke-checks: first scripts/smoke_checks.py's checks (the
#    ProvidersManager's hook and connection form; `airflow providers list`, the CLI, in a process of its
#    own beside the demo), then the demo: the connection test of vtex_default (what `airflow connections
#    test` runs) and every example DAG with dag.test() (what `airflow dags test` runs) against the local
#    VTEX sandbox, and what the sandbox holds afterwards.
# Expects both wheels in dist/ (`make dist` builds them once; every smoke run reuses them). Exits non-zero at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${1:-}"
if [[ ! "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "usage: scripts/smoke.sh AIRFLOW_VERSION   (e.g. 3.1.8; got '${VERSION}')" >&2
    exit 2
fi
PYTHON="${PYTHON:-python3}"
UV="${UV:-uv}"
VENV=".venv-smoke/airflow-${VERSION}"
CONSTRAINTS="constraints/lock-airflow-${VERSION}.txt"
shopt -s nullglob
WHEELS=(dist/airflow_provider_vtex-*.whl)
SANDBOX_WHEELS=(dist/vtex_sandbox-*.whl)
if [ "${#WHEELS[@]}" -ne 1 ] || [ "${#SANDBOX_WHEELS[@]}" -ne 1 ]; then
    echo "smoke: expected one provider and one sandbox wheel in dist/, found ${#WHEELS[@]} and" \
        "${#SANDBOX_WHEELS[@]}: run \`make dist\` first" >&2
    exit 2
fi
if [ ! -f "$CONSTRAINTS" ]; then
    echo "smoke: no ${CONSTRAINTS}: add ${VERSION} to the Makefile's versions and run \`make lock\`" >&2
    exit 2
fi

echo "smoke: Airflow ${VERSION} in a fresh ${VENV} with ${WHEELS[0]} and ${SANDBOX_WHEELS[0]}"
rm -rf "$VENV"
"$UV" venv --quiet --python "$PYTHON" "$VENV"
echo "smoke: pinning with ${CONSTRAINTS}: $(grep -c '==' "$CONSTRAINTS") pin(s)"
if ! "$UV" pip install --python "$VENV/bin/python" --constraint "$CONSTRAINTS" "apache-airflow==${VERSION}" \
        "${WHEELS[0]}" "${SANDBOX_WHEELS[0]}" >"$VENV/install.log" 2>&1; then
    tail -n 40 "$VENV/install.log" >&2
    echo "smoke: installing Airflow ${VERSION} and the wheels failed (log: ${VENV}/install.log)" >&2
    exit 1
fi

export AIRFLOW_HOME="$PWD/$VENV/airflow-home"
mkdir -p "$AIRFLOW_HOME"
# Python writes the bytecode of what it imports, as in a user's venv, whatever this shell inherited: the
# `airflow providers list` process then loads Airflow from it instead of compiling it again (seconds).
unset PYTHONDONTWRITEBYTECODE
# From the Airflow home, not the repository: the source tree must not shadow the installed wheel.
(cd "$AIRFLOW_HOME" && "$OLDPWD/$VENV/bin/python" "$OLDPWD/scripts/demo.py" --airflow-home "$AIRFLOW_HOME" --smoke-checks)
echo "smoke: Airflow ${VERSION} passed"
