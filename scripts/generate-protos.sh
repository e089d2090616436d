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
protoc-c --proto_path=Protos --c_out="$tmp" tickgate/v1/tickgate.proto grpc/health/v1/health.proto
# SwiftPM wants headers under include/; make each .c include the flat name.
names=()
for path in tickgate/v1/tickgate grpc/health/v1/health; do
  name=$(basename "$path")
  names+=("$name")
  sed "s|#include \"$path.pb-c.h\"|#include \"$name.pb-c.h\"|" "$tmp/$path.pb-c.c" > "$tmp/$name.pb-c.c"
  cp "$tmp/$path.pb-c.h" "$tmp/$name.pb-c.h"
done
if [[ "${1:-}" == "--check" ]]; then
  status=0
  for name in "${names[@]}"; do
    cmp -s "$tmp/$name.pb-c.c" "$out_c/$name.pb-c.c" || { echo "stale: $out_c/$name.pb-c.c"; status=1; }
    cmp -s "$tmp/$name.pb-c.h" "$out_h/$name.pb-c.h" || { echo "stale: $out_h/$name.pb-c.h"; status=1; }
  done
  if [[ $status -ne 0 ]]; then
    echo "generated protobuf-c code does not match Protos/: run scripts/generate-protos.sh" >&2
    exit 1
  fi
  echo "generated protobuf-c code matches Protos/"
  exit 0
fi
for name in "${names[@]}"; do
  cp "$tmp/$name.pb-c.c" "$out_c/$name.pb-c.c"
  cp "$tmp/$name.pb-c.h" "$out_h/$name.pb-c.h"
  echo "wrote $out_c/$name.pb-c.c and $out_h/$name.pb-c.h"
done
