#!/usr/bin/env bash
# Runs the Swift test suite under a sanitizer, in a build directory of its
# own (.build/SANITIZER/), so the normal build stays as it is.
#   scripts/sanitize.sh address    AddressSanitizer (use after free, overflows)
#   scripts/sanitize.sh thread     ThreadSanitizer (data races)
# Extra arguments go to `swift test` (e.g. --filter GatewayIntegrationTests).
# Suppressions, each explained, are in scripts/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread [swift test args]}
shift
source scripts/lib/install-deps.sh
tickgate_install_packages "${TICKGATE_BUILD_PACKAGES[@]}" "${TICKGATE_TEST_PACKAGES[@]}"
case $kind in
  address)
    # Leak checking is off: the Swift runtime keeps metadata caches and
    # libraries keep process-lifetime singletons that LeakSanitizer reports
    # at exit; leaks of our own objects are caught by the call-object and
    # ledger counters the tests assert on (DefectRegressionTests).
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    ;;
  thread)
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/sanitizers/tsan.supp"
    ;;
  *) echo "sanitize.sh: address or thread, not $kind" >&2; exit 2 ;;
esac
swift build --build-tests --sanitize="$kind" --scratch-path ".build/$kind"
if [[ $kind == thread ]]; then
  # librdkafka's C11 threads and locks, made visible to TSan (see the file).
  cc -O2 -shared -fPIC -Wall -Wextra -o ".build/thread/libc11-threads.so" scripts/sanitizers/c11-threads.c -lpthread
  export LD_PRELOAD="$PWD/.build/thread/libc11-threads.so${LD_PRELOAD:+:$LD_PRELOAD}"
  # One test at a time: under TSan the parallel suite overloads 2 cores
  # (connect timeouts), and serial it takes ~2.5 min.
  set -- --no-parallel "$@"
fi
swift test --skip-build --sanitize="$kind" --scratch-path ".build/$kind" "$@"
echo "sanitize.sh: the test suite is clean under the ${kind} sanitizer"
