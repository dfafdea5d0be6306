#!/usr/bin/env bash
# make demo: the collector (argus serve), the demo shop's services and its load generator
# (argus-demo up), and what to try. Ctrl-C (or SIGTERM) stops everything.
#   ./scripts/demo.sh               data in ./data (kept between runs)
#   ./scripts/demo.sh --ephemeral   data in a temporary directory, removed at the end
# Environment: ARGUS_LISTEN (default 127.0.0.1:4318), DEMO_BASE_PORT (8080), DEMO_RATE (2 journeys/s).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/debug
listen=${ARGUS_LISTEN:-127.0.0.1:4318}
base_port=${DEMO_BASE_PORT:-8080}
rate=${DEMO_RATE:-2}
data=./data
ephemeral=0
[ "${1:-}" = "--ephemeral" ] && ephemeral=1
if [ ! -x "$bin/argus" ] || [ ! -x "$bin/argus-demo" ]; then
  swift build --product argus
  swift build --product argus-demo
fi
[ $ephemeral = 1 ] && data=$(mktemp -d /tmp/argus-demo-data.XXXXXX)
state=$(mktemp -d /tmp/argus-demo-state.XXXXXX)

serve_pid= ; shop_pid=
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "make demo: stopping"
  [ -n "$shop_pid" ] && kill -TERM "$shop_pid" 2>/dev/null && wait "$shop_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  rm -rf "$state"
  [ $ephemeral = 1 ] && rm -rf "$data"
  exit 0
}
trap cleanup INT TERM EXIT

serve_args=(serve --data-dir "$data" --listen "$listen")
if "$bin/argus" serve --help 2>/dev/null | grep -q -- '--rules' && [ -d alerts ]; then serve_args+=(--rules alerts); fi
"$bin/argus" "${serve_args[@]}" > "$state/argus.log" 2>&1 &
serve_pid=$!
host=${listen%:*}; port=${listen##*:}
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || { echo "argus serve did not start:"; cat "$state/argus.log"; exit 1; }
  sleep 0.1
done
echo "argus serve: http://$listen, data in $data (log: $state/argus.log)"

"$bin/argus-demo" up --collector "http://$listen" --base-port "$base_port" --rate "$rate" \
  --registry "$state/registry.json" --log-dir "$state/logs" > "$state/up.log" 2>&1 &
shop_pid=$!
for _ in $(seq 1 1200); do
  grep -q "the shop is up" "$state/up.log" 2>/dev/null && break
  kill -0 "$shop_pid" 2>/dev/null || { echo "argus-demo up did not start:"; cat "$state/up.log"; exit 1; }
  sleep 0.1
done
grep -v "^stop with" "$state/up.log"

# Only the commands this build of argus has.
commands=$("$bin/argus" --help 2>/dev/null | sed -n '/SUBCOMMANDS/,$p' | awk '{print $1}')
has() { grep -qx "$1" <<<"$commands"; }
server=""
[ "$listen" != "127.0.0.1:4318" ] && server=" --server http://$listen"
echo
echo "try (in another terminal):"
if has query; then
  echo "  $bin/argus query$server 'sum by (service) (rate(http_server_requests_total[1m]))'"
  echo "  $bin/argus query$server 'histogram_quantile(0.99, sum by (service, le) (rate(http_server_request_duration_seconds_bucket[1m])))'"
  echo "  $bin/argus query$server --since 5m --output chart 'circuit_breaker_state{service=\"payments\",target=\"bank\"}'"
fi
has logs && echo "  $bin/argus logs '{service_name=\"payments\"}'"
has traces && echo "  $bin/argus traces '{ resource.service.name = \"payments\" && status = error }'"
has dash && echo "  $bin/argus dash"
echo "  curl -s -X POST http://127.0.0.1:$base_port/api/login -d '{\"user\":\"me\",\"password\":\"demo\"}'"
echo "break something:"
echo "  $bin/argus-demo scenario payments-outage --registry $state/registry.json   # bank fails → retries → breaker opens"
echo "  $bin/argus-demo scenario steady --registry $state/registry.json            # back to normal"
echo "  (scenarios: steady spike payments-outage bank-slow slow-catalog recommendations-down inventory-errors cold-starts)"
echo "service logs: $state/logs/ (supervisor: $state/up.log)   stop everything with Ctrl-C"
wait "$shop_pid" || true
