#!/usr/bin/env bash
# Until the demo shop lands, `make demo` runs the collector on a temporary data directory.
set -euo pipefail
bin=.build/debug/argus
dir=$(mktemp -d /tmp/argus-demo.XXXXXX)
echo "make demo: the demo shop is not built yet; starting the collector alone on a temporary data directory: $dir"
echo "try:   curl --data-binary 'demo_requests_total{service=\"shop\"} 1' http://127.0.0.1:4318/api/v1/import/prometheus"
echo "       curl -G http://127.0.0.1:4318/api/v1/export --data-urlencode 'match[]={__name__=~\".+\"}'"
echo "       .build/debug/argus query 'rate(demo_requests_total[5m])'     # PromQL from the terminal"
echo "       .build/debug/argus query --since 5m --output chart 'argus_head_series'"
echo "stop with Ctrl-C"
trap 'rm -rf "$dir"' EXIT
"$bin" serve --data-dir "$dir" --listen "${ARGUS_LISTEN:-127.0.0.1:4318}"
