#!/usr/bin/env bash
# Every C call stays inside its library's thin internal layer:
#   librdkafka  → Sources/TickgateKafka/RDKafka/
#   nghttp2     → Sources/TickgateHTTP2/NGHTTP2/
#   protobuf-c  → Sources/TickgateModel/ProtobufC/   (and the generated tickgate__*, grpc__* symbols)
#   OpenSSL     → Sources/TickgateTLS/OpenSSL/
# Fails, listing each leak, when a C symbol or C module import appears in
# any other Swift file of Sources/, Tests/ or Benchmarks/.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
check() {  # check LAYER_DIR REGEX DESCRIPTION
  local layer=$1 regex=$2 what=$3 leaks
  leaks=$(grep -rnE --include='*.swift' "$regex" Sources Tests Benchmarks 2>/dev/null \
    | grep -v "^$layer/" | grep -vE '^[^:]+:[0-9]+:\s*(//|///)' || true)
  if [[ -n $leaks ]]; then
    echo "check-c-layers: $what outside $layer/:" >&2
    echo "$leaks" >&2
    status=1
  fi
}

check Sources/TickgateKafka/RDKafka '\brd_kafka_[a-z_]+|\bRD_KAFKA_[A-Z_]+|^\s*(@?[a-z]+ )*import CRDKafka\b' "librdkafka"
check Sources/TickgateHTTP2/NGHTTP2 '\bnghttp2_[a-z_]+|\bNGHTTP2_[A-Z_]+|^\s*(@?[a-z]+ )*import CNGHTTP2\b' "nghttp2"
check Sources/TickgateModel/ProtobufC '\bprotobuf_c_[a-z_]+|\bPROTOBUF_C_[A-Z_]+|\b(tickgate|grpc)__[a-z0-9_]+|\b(Tickgate|Grpc)__[A-Za-z0-9_]+|\b(TICKGATE|GRPC)__[A-Z0-9_]+|\btickgate_descriptor_set|^\s*(@?[a-z]+ )*import C(ProtobufC|TickgateProto)\b' "protobuf-c"
check Sources/TickgateTLS/OpenSSL '\b(SSL|SSL_CTX|EVP|BIO|ERR|X509|OPENSSL|TLS)_[A-Za-z0-9_]+\(|^\s*(@?[a-z]+ )*import COpenSSL\b' "OpenSSL"

if ((status == 0)); then echo "check-c-layers: every C call is inside its layer"; fi
exit $status
