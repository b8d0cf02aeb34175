#!/usr/bin/env bash
# Refresh the pinned versions every environment installs: constraints/lock-airflow-X.Y.Z.txt per Airflow
# version, resolved by `uv pip compile` from the provider with its test and dev extras, the sandbox with
# its test extra, that Airflow, and the hand-written pins in constraints/airflow-X.Y.Z.txt (releases made
# after that Airflow that break it). The main version's file also pins the Celery provider of
# `make test-distributed` and the HTTP provider of `make bench`.
#
#   make lock            (AIRFLOW_VERSIONS="3.3.2 2.11.2 ..." bash scripts/lock.sh)
#
# Run on purpose (new releases, a changed dependency), then review and commit the diff: CI installs
# exactly these versions, so a release made upstream does not change CI by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

UV="${UV:-uv}"
PYTHON_VERSION="${LOCK_PYTHON_VERSION:-3.11}"
MAIN_VERSION="${AIRFLOW_VERSIONS%% *}"
read -r -a CELERY <<<"${CELERY_PACKAGES:-apache-airflow-providers-celery==3.26.0 celery[redis]==5.6.3 kombu<5.7}"
for version in ${AIRFLOW_VERSIONS:?set AIRFLOW_VERSIONS}; do
    inputs=("-e .[dev]" "-e ./sandbox[test]" "apache-airflow==${version}")
    if [ "$version" = "$MAIN_VERSION" ]; then
        inputs+=("${CELERY[@]}" apache-airflow-providers-http)
    fi
    pins=()
    if [ -f "constraints/airflow-${version}.txt" ]; then
        pins=(--constraint "constraints/airflow-${version}.txt")
    fi
    out="constraints/lock-airflow-${version}.txt"
    printf '%s\n' "${inputs[@]}" >"$out.in"
    # shellcheck disable=SC2068
    "$UV" pip compile --quiet "$out.in" ${pins[@]+"${pins[@]}"} --python-version "$PYTHON_VERSION" \
        --no-emit-package airflow-provider-vtex --no-emit-package vtex-sandbox --no-annotate \
        --custom-compile-command "make lock" -o "$out"
    rm -f "$out.in"
    echo "lock: $out ($(grep -c '==' "$out") pins)"
done
