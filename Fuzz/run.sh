#!/usr/bin/env bash
# Runs Tickgate's libFuzzer harnesses (README: "Fuzzing").
#
#   Fuzz/run.sh build                 build every harness (libFuzzer + ASan)
#   Fuzz/run.sh NAME SECONDS [ARGS]   run one harness for SECONDS on its corpus
#   Fuzz/run.sh all SECONDS           run each harness in turn for SECONDS
#
# NAME: gateway, binance, coinbase, kraken, replay, json. The seed corpus is
# Fuzz/Corpus/NAME/ (in git); what a run adds goes to .build/fuzz-corpus/NAME/
# (not in git), crashers to Fuzz/Crashers/NAME/ — each kept as a regression
# input, replayed by `run.sh regress`.
#   Fuzz/run.sh regress               run every harness once over its
#                                     seeds and crashers (no fuzzing)
#   Fuzz/run.sh ci [SECONDS]          build, regress, then each harness for
#                                     SECONDS (default 20): what CI runs
set -euo pipefail
cd "$(dirname "$0")"
# lld: gold fails on the instrumented objects (internal error in format_file_lineno).
flags=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld --scratch-path .build/fuzz)
names=(gateway web binance coinbase kraken replay json)
product() { case $1 in gateway) echo FuzzGateway ;; web) echo FuzzWeb ;; binance) echo FuzzBinance ;; coinbase) echo FuzzCoinbase ;;
  kraken) echo FuzzKraken ;; replay) echo FuzzReplay ;; json) echo FuzzJSON ;; *) echo "unknown harness $1" >&2; exit 2 ;; esac; }

build() {
  bash ../scripts/lib/install-deps.sh >/dev/null
  for name in "${names[@]}"; do swift build "${flags[@]}" --product "$(product "$name")"; done
}
bin() { echo ".build/fuzz/debug/$(product "$1")"; }

run_one() {  # NAME SECONDS [ARGS]
  local name=$1 seconds=$2; shift 2
  mkdir -p ".build/fuzz-corpus/$name" "Crashers/$name"
  [[ -x $(bin "$name") ]] || swift build "${flags[@]}" --product "$(product "$name")"
  # -rss_limit_mb: a harness growing past it is a finding too.
  ASAN_OPTIONS=detect_leaks=0 "$(bin "$name")" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="Crashers/$name/" -print_final_stats=1 "$@" ".build/fuzz-corpus/$name" "Corpus/$name"
}

regress() {
  for name in "${names[@]}"; do
    [[ -x $(bin "$name") ]] || swift build "${flags[@]}" --product "$(product "$name")"
    inputs=(Corpus/"$name"/* Crashers/"$name"/*)
    files=()
    for f in "${inputs[@]}"; do [[ -f $f ]] && files+=("$f"); done
    ((${#files[@]})) && ASAN_OPTIONS=detect_leaks=0 "$(bin "$name")" -runs=1 "${files[@]}" >/dev/null 2>&1 \
      || { ((${#files[@]} == 0)) || { echo "fuzz regress: $name failed" >&2; exit 1; }; }
    echo "fuzz regress: $name ok (${#files[@]} inputs)"
  done
}

case "${1:-}" in
  build) build ;;
  all) for name in "${names[@]}"; do run_one "$name" "${2:?seconds}"; done ;;
  regress) regress ;;
  ci)
    build
    regress
    for name in "${names[@]}"; do
      run_one "$name" "${2:-20}" > ".build/fuzz-$name.log" 2>&1 || { tail -40 ".build/fuzz-$name.log"; echo "fuzz: $name found something (Fuzz/Crashers/$name/)" >&2; exit 1; }
      echo "fuzz: $name $(grep -E '^#[0-9]+' ".build/fuzz-$name.log" | tail -1 | cut -c1-60)"
    done ;;
  "") sed -n 2,16p "$0"; exit 2 ;;
  *) run_one "$@" ;;
esac
