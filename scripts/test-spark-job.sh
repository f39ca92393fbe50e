#!/usr/bin/env bash
# Runs the Spark job's own pytest suite (jobs/spark/tests) when its venv exists
# (scripts/setup-spark.sh --with-tests). Without it: fails under CI, skips loudly elsewhere.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/jobs/spark/.venv/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import pytest' >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then
    echo "test-spark-job: jobs/spark/.venv with pytest is missing; run scripts/setup-spark.sh --with-tests" >&2
    exit 1
  fi
  echo "*** SKIPPING the Spark job's pytest suite: run scripts/setup-spark.sh --with-tests to enable it ***"
  exit 0
fi
cd "$root"
PYTHONDONTWRITEBYTECODE=1 "$py" -m pytest -q -p no:cacheprovider jobs/spark/tests
