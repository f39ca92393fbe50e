#!/bin/sh
# The image's entrypoint: `rtrec serve` runs with the serving node flags (serveNodeFlags in
# src/serve/server.ts: measured less CPU per request), which node only takes on its command line
# (--single-threaded-gc is refused in NODE_OPTIONS); every other command runs with node's defaults.
# A server with online updates (a model folder: RTREC_MODEL_DIR or --model-dir) keeps V8's
# background GC threads and gets a smaller nursery, which keep its GC pauses short.
set -e
app="${RTREC_APP_DIR:-/app}"
if [ "$1" = serve ]; then
  online=
  [ -n "${RTREC_MODEL_DIR:-}" ] && online=1
  for arg in "$@"; do
    case "$arg" in --model-dir | --model-dir=*) online=1 ;; esac
  done
  if [ -n "$online" ]; then
    exec node --max-semi-space-size=32 "$app/bin/rtrec.js" "$@"
  fi
  exec node --max-semi-space-size=64 --single-threaded-gc "$app/bin/rtrec.js" "$@"
fi
exec node "$app/bin/rtrec.js" "$@"
