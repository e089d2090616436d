#!/usr/bin/env bash
# Builds the release binary and runs the all-in-one demo (embedded Kafka,
# synthetic feed, gateway). Arguments go to `tickgate demo`, e.g. --rate 500.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh
tickgate_install_packages "${TICKGATE_BUILD_PACKAGES[@]}" "${TICKGATE_RUN_PACKAGES[@]}"
tickgate_require_swift
swift build -c release --product tickgate
exec .build/release/tickgate demo "$@"
