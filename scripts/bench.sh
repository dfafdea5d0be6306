#!/usr/bin/env bash
# Side-by-side benchmark: Argus, Prometheus (Debian 2.42) and VictoriaMetrics (Debian 1.79) on one
# dataset over remote_write, each alone on the machine. Installs what is missing, builds Argus in
# release mode, runs `argus-bench compare` and writes the table to docs/comparison.md.
# Everything listens on 127.0.0.1; every process started is stopped on exit, failure or Ctrl-C.
# Arguments go to argus-bench compare: --series N --hours H --batch N --concurrency N --runs R
#   --systems argus,prometheus,victoriametrics --timeout SECONDS (default 3600) --out FILE
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh bench
swift build -c release --product argus
swift build -c release --product argus-bench
out=docs/comparison.md
args=("$@")
for a in "$@"; do [ "$a" = "--out" ] && out=""; done
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -n "$out" ]; then args+=(--out "$tmp"); fi
# argus-bench stops its children itself (Ctrl-C, --timeout, errors); timeout(1) is the last resort.
timeout --signal=INT --kill-after=30 7200 .build/release/argus-bench compare "${args[@]}"
if [ -n "$out" ]; then
  {
    echo "# Argus next to Prometheus and VictoriaMetrics"
    echo
    echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) on $(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB; Argus $(git rev-parse --short HEAD)."
    echo
    cat "$tmp"
  } > "$out"
  echo "written to $out"
fi
