#!/usr/bin/env bash
# Stops every process deploy/local/up.sh started (pids from its state folder) and removes the folder.
# Usage: deploy/local/down.sh [--state-dir DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec node "$here/topology.mjs" down "$@"
