#!/usr/bin/env bash
# make demo: builds argus and argus-demo and runs `argus demo`: the collector (argus serve), the
# demo shop's services and its load generator, and what to try. Ctrl-C (or SIGTERM) stops all.
#   ./scripts/demo.sh               data in ./data (kept between runs)
#   ./scripts/demo.sh --ephemeral   data in a temporary directory, removed at the end
# Environment: ARGUS_LISTEN (default 127.0.0.1:4318), DEMO_BASE_PORT (8080), DEMO_RATE (2 journeys/s).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/debug
if [ ! -x "$bin/argus" ] || [ ! -x "$bin/argus-demo" ]; then
  swift build --product argus
  swift build --product argus-demo
fi
exec "$bin/argus" demo --listen "${ARGUS_LISTEN:-127.0.0.1:4318}" --base-port "${DEMO_BASE_PORT:-8080}" \
  --rate "${DEMO_RATE:-2}" "$@"
