#!/usr/bin/env bash
# Regenerates Sources/ArgusOTLP/Generated from proto/ (our OTLP .proto files).
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0:
#   git clone <swift-protobuf> /tmp/swift-protobuf && cd /tmp/swift-protobuf && git checkout 1.39.0 \
#     && swift build -c release --product protoc-gen-swift
# then: PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/gen-proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
[ -x "$plugin" ] || { echo "protoc-gen-swift not found; set PROTOC_GEN_SWIFT" >&2; exit 1; }
out=Sources/ArgusOTLP/Generated
rm -rf "$out" && mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path=proto \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" $(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)
echo "generated $(ls "$out" | wc -l) files in $out"
