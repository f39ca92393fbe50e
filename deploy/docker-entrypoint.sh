#!/bin/sh
# The image's entrypoint: `rtrec serve` runs with the serving node flags (SERVE_NODE_FLAGS in
# src/serve/server.ts: measured less CPU per request), which node only takes on its command line
# (--single-threaded-gc is refused in NODE_OPTIONS); every other command runs with node's defaults.
set -e
app="${RTREC_APP_DIR:-/app}"
if [ "$1" = serve ]; then
  exec node --max-semi-space-size=64 --single-threaded-gc "$app/bin/rtrec.js" "$@"
fi
exec node "$app/bin/rtrec.js" "$@"
