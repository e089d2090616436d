#!/usr/bin/env bash
# Regenerates the protobuf-c code in Sources/CTickgateProto from Protos/.
#   scripts/generate-protos.sh          write the generated files
#   scripts/generate-protos.sh --check  fail if the committed files are stale
set -euo pipefail
cd "$(dirname "$0")/.."
out_c=Sources/CTickgateProto
out_h=Sources/CTickgateProto/include
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c --proto_path=Protos --c_out="$tmp" tickgate/v1/tickgate.proto
# SwiftPM wants headers under include/; make the .c include the flat name.
sed 's|#include "tickgate/v1/tickgate.pb-c.h"|#include "tickgate.pb-c.h"|' \
  "$tmp/tickgate/v1/tickgate.pb-c.c" > "$tmp/tickgate.pb-c.c"
cp "$tmp/tickgate/v1/tickgate.pb-c.h" "$tmp/tickgate.pb-c.h"
if [[ "${1:-}" == "--check" ]]; then
  status=0
  cmp -s "$tmp/tickgate.pb-c.c" "$out_c/tickgate.pb-c.c" || { echo "stale: $out_c/tickgate.pb-c.c"; status=1; }
  cmp -s "$tmp/tickgate.pb-c.h" "$out_h/tickgate.pb-c.h" || { echo "stale: $out_h/tickgate.pb-c.h"; status=1; }
  if [[ $status -ne 0 ]]; then
    echo "generated protobuf-c code does not match Protos/: run scripts/generate-protos.sh" >&2
    exit 1
  fi
  echo "generated protobuf-c code matches Protos/"
  exit 0
fi
cp "$tmp/tickgate.pb-c.c" "$out_c/tickgate.pb-c.c"
cp "$tmp/tickgate.pb-c.h" "$out_h/tickgate.pb-c.h"
echo "wrote $out_c/tickgate.pb-c.c and $out_h/tickgate.pb-c.h"
