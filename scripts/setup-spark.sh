#!/usr/bin/env bash
# Sets up the Spark training job (jobs/spark): checks Java 17+, creates the Python virtual
# environment jobs/spark/.venv and installs the pinned requirements into it (PySpark ships Spark
# itself, so no separate Spark download is needed). Idempotent: a second run only re-checks, and
# re-installs only when a requirements file changed. Prints each step.
#
# Usage: scripts/setup-spark.sh [--with-tests] [--python PYTHON]
#   --with-tests     also install the job's test dependencies (pytest); CI uses this
#   --python PYTHON  interpreter to create the venv with (default: python3; 3.10 or later)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
job="$root/jobs/spark"
venv="$job/.venv"
python="python3"
with_tests=0

while [ $# -gt 0 ]; do
  case "$1" in
    --with-tests) with_tests=1 ;;
    --python) python="${2:?--python needs a value}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup-spark: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "setup-spark: $*"; }
die() { echo "setup-spark: error: $*" >&2; exit 1; }

# 1. Java: Spark 4 runs on Java 17 or 21.
java_bin="java"
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; fi
command -v "$java_bin" >/dev/null 2>&1 || die "Java not found; install Java 17 or later (e.g. 'apt-get install openjdk-17-jre-headless') or set JAVA_HOME"
java_version="$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)"
[ -n "$java_version" ] || die "cannot tell the version of $java_bin"
[ "$java_version" -ge 17 ] || die "$java_bin is Java $java_version; Spark 4 needs Java 17 or later"
say "Java $java_version ($(command -v "$java_bin"))"

# 2. Python: 3.10 or later, as the pinned numpy (requirements.txt) needs.
command -v "$python" >/dev/null 2>&1 || die "$python not found; install Python 3.10 or later or pass --python"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$python is $("$python" --version 2>&1); the Spark job needs Python 3.10 or later"
say "Python $("$python" -c 'import platform; print(platform.python_version())') ($(command -v "$python"))"

# 3. Virtual environment. Without ensurepip (Debian/Ubuntu without python3-venv), `python3 -m venv`
# fails after creating bin/python; a venv like that, without a working pip, is made again.
venv_hint="on Debian/Ubuntu install python3-venv (apt-get install python3-venv), or pass --python"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  say "virtual environment exists: $venv"
else
  if [ -e "$venv" ]; then
    say "virtual environment $venv has no working pip (an earlier run failed?); creating it again"
    rm -rf "$venv"
  else
    say "creating virtual environment $venv"
  fi
  "$python" -c 'import ensurepip' >/dev/null 2>&1 \
    || die "$python cannot create a virtual environment with pip (no ensurepip); $venv_hint"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    die "'$python -m venv $venv' failed; $venv_hint"
  fi
fi

# 4. Requirements, re-installed only when the requirements files changed since the last install.
req="$job/requirements.txt"
[ "$with_tests" = 1 ] && req="$job/requirements-test.txt"
stamp="$venv/.rtrec-installed"
want="$(basename "$req") $(cat "$job/requirements.txt" "$job/requirements-test.txt" | sha256sum | cut -c1-16)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$have" = "$want" ] || { [ "$with_tests" = 0 ] && [ "${have#requirements-test.txt }" = "${want#requirements.txt }" ]; }; then
  say "requirements already installed ($(basename "$req"))"
else
  say "installing $(basename "$req") into $venv (PySpark is a ~450 MB download the first time)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$req"
  echo "$want" >"$stamp"
fi

# 5. Check that Spark starts far enough to report its version.
[ -x "$venv/bin/spark-submit" ] || die "$venv/bin/spark-submit is missing after the install"
spark_version="$("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)')"
say "ready: PySpark $spark_version, spark-submit at $venv/bin/spark-submit"
