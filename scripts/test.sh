#!/usr/bin/env bash
# The test command: installs what is missing, then runs every check.
#   1. Debian packages (apt only if something is missing)
#   2. .venv/ with the interop suite's pinned Python packages
#   3. C calls only inside their layers; generated protobuf-c code is up to date with Protos/
#   4. swift build --build-tests, swift test
#   5. a throwaway app builds against TickgateClient by version
#   6. the interop suite (stock grpcio and kcat against the tickgate binary,
#      and the HTTP/2 abuse suite)
#   7. every fuzz harness: its seeds and crashers, then 20 s of fuzzing
#   8. the Swift test suite under AddressSanitizer
#   9. a 60 s soak run
# Logs go to .test-output/. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/install-deps.sh
out=.test-output
mkdir -p "$out"

fail() { echo "test.sh: FAILED at $1" >&2; exit 1; }

tickgate_install_packages "${TICKGATE_BUILD_PACKAGES[@]}" "${TICKGATE_RUN_PACKAGES[@]}" "${TICKGATE_TEST_PACKAGES[@]}" || fail "apt packages"
tickgate_require_swift || fail "swift toolchain"

# Reuse .venv/ when it works; install only when requirements.txt changed
# since the last successful install (a copy is kept inside the venv).
req=Tests/Interop/requirements.txt
if ! .venv/bin/python -c '' 2>/dev/null; then
  echo "==> creating .venv/"
  rm -rf .venv
  python3 -m venv .venv || fail "python3 -m venv"
fi
if cmp -s "$req" .venv/requirements.installed; then
  echo "==> .venv/: requirements already installed"
else
  echo "==> .venv/: pip install -r $req"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req" || fail "pip install"
  cp "$req" .venv/requirements.installed
fi

echo "==> scripts/check-c-layers.sh"
scripts/check-c-layers.sh || fail "check-c-layers.sh"

echo "==> scripts/generate-protos.sh --check"
scripts/generate-protos.sh --check || fail "generate-protos.sh --check"

echo "==> swift build --build-tests (log: $out/swift-build.log)"
swift build --build-tests 2>&1 | tee "$out/swift-build.log" || fail "swift build"

# From here on every suite runs even if an earlier one failed, so that one
# run reports all failures; the summary line says which ones.
failed=()
echo "==> swift test (log: $out/swift-test.log)"
swift test 2>&1 | tee "$out/swift-test.log" || failed+=("swift test")

echo "==> scripts/check-consumer.sh (log: $out/consumer.log)"
bash scripts/check-consumer.sh > "$out/consumer.log" 2>&1 || { tail -20 "$out/consumer.log"; failed+=("consumer package"); }
tail -1 "$out/consumer.log"

# Release code paths (the `#else` of every `#if DEBUG`, where delivery
# state opts out of exclusivity checks) compile only here; the demo and
# the bench run this build.
echo "==> swift build -c release --product tickgate (log: $out/release-build.log)"
swift build -c release --product tickgate > "$out/release-build.log" 2>&1 || { tail -20 "$out/release-build.log"; failed+=("release build"); }
tail -1 "$out/release-build.log"

echo "==> interop suite (log: $out/interop.log)"
# timeout -s INT lets pytest tear its processes down before it stops;
# any non-zero exit fails, including 5 (no tests collected).
TICKGATE_BIN="${TICKGATE_BIN:-$PWD/.build/debug/tickgate}" \
  TICKGATE_REQUIRE_BROWSER=1 timeout -s INT -k 30 900 .venv/bin/python -m pytest Tests/Interop -v \
    --junitxml="$out/interop.xml" 2>&1 | tee "$out/interop.log" || failed+=("interop")

echo "==> Fuzz/run.sh ci 20 (log: $out/fuzz.log)"
bash Fuzz/run.sh ci 20 > "$out/fuzz.log" 2>&1 || { tail -40 "$out/fuzz.log"; failed+=("fuzz"); }
grep -E "^fuzz" "$out/fuzz.log" || true

echo "==> scripts/sanitize.sh address (log: $out/asan.log)"
bash scripts/sanitize.sh address > "$out/asan.log" 2>&1 || { grep -E "✘|ERROR|SUMMARY" "$out/asan.log" | head -40; failed+=("address sanitizer"); }
tail -1 "$out/asan.log"

echo "==> scripts/soak.sh 60 (log: $out/soak.log)"
TICKGATE_BIN="$PWD/.build/release/tickgate" bash scripts/soak.sh 60 12 > "$out/soak.log" 2>&1 || { tail -20 "$out/soak.log"; failed+=("soak"); }
tail -3 "$out/soak.log"

if ((${#failed[@]})); then
  summary=$(printf '%s, ' "${failed[@]}")
  echo "test.sh: FAILED: ${summary%, } (logs in $out/)" >&2
  exit 1
fi
echo "test.sh: all passed (C layers, protos, swift build, swift test, consumer package, release build, interop, fuzz, address sanitizer, soak)"
