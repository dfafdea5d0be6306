#!/usr/bin/env bash
# Installs the Debian packages Argus links to, when missing: libzstd-dev, libsqlite3-dev, libsnappy-dev, zlib1g-dev.
# With "test": also the packages the tests use as real peers (prometheus, for promtool).
# With "bench": also the peers of the side-by-side benchmark (prometheus, victoria-metrics).
set -euo pipefail
pkgs="libzstd-dev libsqlite3-dev libsnappy-dev zlib1g-dev"
[ "${1:-}" = "test" ] && pkgs="$pkgs prometheus"
[ "${1:-}" = "bench" ] && pkgs="$pkgs prometheus victoria-metrics"
need=()
for pkg in $pkgs; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "error: Argus needs the Debian packages ${need[*]}; run as root or with sudo, or install them: apt-get install ${need[*]}" >&2
  exit 1
fi
