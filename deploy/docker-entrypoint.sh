#!/bin/sh
# The image's entrypoint: `rtrec serve` runs with the serving node flags (serveNodeFlags in
# src/serve/server.ts: measured less CPU per request), which node only takes on its command line
# (--single-threaded-gc is refused in NODE_OPTIONS); every other command runs with node's defaults.
# A server with online updates (a model folder: RTREC_MODEL_DIR or --model-dir) keeps V8's
# background GC threads, which keep its GC pauses short.
set -e
app="${RTREC_APP_DIR:-/app}"
if [ "$1" = serve ]; then
  gc=--single-threaded-gc
  [ -n "${RTREC_MODEL_DIR:-}" ] && gc=
  for arg in "$@"; do
    case "$arg" in --model-dir | --model-dir=*) gc= ;; esac
  done
  exec node --max-semi-space-size=64 $gc "$app/bin/rtrec.js" "$@"
fi
exec node "$app/bin/rtrec.js" "$@"
