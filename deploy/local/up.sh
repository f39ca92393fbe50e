#!/usr/bin/env bash
# Brings up the local topology: a 3-master Redis Cluster, N `rtrec serve` processes (default 3) and
# nginx in front, all on 127.0.0.1, and publishes a small made-up model from a separate process.
# Usage: deploy/local/up.sh [N] [--state-dir DIR] [--json]   (stop with deploy/local/down.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec node "$here/topology.mjs" up "$@"
