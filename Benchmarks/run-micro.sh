#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Runs Tickgate's ordo-one/benchmark micro-benchmarks (this folder's package;
# see README.md, "Micro-benchmarks").
#
#   ./run-micro.sh [run] [OPTIONS...]       run all, print the table and save it
#                                           to results/micro-<UTC time>.txt
#   ./run-micro.sh check [OPTIONS...]       run all and check the malloc counts
#                                           against Thresholds/ (non-zero exit
#                                           on a deviation beyond the tolerance)
#   ./run-micro.sh update-thresholds [...]  re-measure and rewrite Thresholds/
#                                           (malloc counts only)
#
# OPTIONS go to the benchmark plugin, e.g. `--filter TickDecode`, `--scale`
# (per-iteration instead of per-operation values), `--format markdown`.
# BENCH_NICE (default 19) is the niceness of the build and the run: the
# default yields to other work on a shared machine; use BENCH_NICE=0 on an
# otherwise idle one.
#
# On a fresh machine this installs the same Debian packages as the main
# package (librdkafka, nghttp2, protobuf-c headers) through
# scripts/lib/install-deps.sh; the first build takes several minutes.
set -euo pipefail

cd "$(dirname "$0")"
root=..

mode="run"
if (($# > 0)); then
  case "$1" in
    run | check | update-thresholds) mode="$1"; shift ;;
    -h | --help) sed -n '3,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
fi

source ../scripts/lib/install-deps.sh
tickgate_require_swift
tickgate_install_packages "${TICKGATE_BUILD_PACKAGES[@]}"

# No sandbox (the documented way when benchmarks need it; Linux has none
# anyway), writes allowed for Thresholds/.
benchmark=(nice -n "${BENCH_NICE:-19}" swift package --disable-sandbox --allow-writing-to-package-directory benchmark)

case "$mode" in
  run)
    mkdir -p results
    out="results/micro-$(date -u +%Y%m%dT%H%M%SZ).txt"
    {
      echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- 2>/dev/null || echo ' (+ local changes)')"
      echo "# $(swift --version 2>/dev/null | head -n 1)"
      echo "# $(nproc) cores, $(uname -sr), nice ${BENCH_NICE:-19}"
      echo "# ${benchmark[*]} run --no-progress $*"
    } >"$out"
    echo "==> building and running (the table is also saved to Benchmarks/$out)"
    # Build output goes to the terminal only; the file gets the tables.
    "${benchmark[@]}" run --no-progress "$@" | tee -a "$out"
    ;;
  check)
    "${benchmark[@]}" thresholds check --no-progress "$@"
    ;;
  update-thresholds)
    # Only mallocCountTotal is stored: time on this shared 2-core machine is
    # too noisy to gate on. The counts are the same as in a full run.
    "${benchmark[@]}" thresholds update --metric mallocCountTotal --no-progress "$@"
    ;;
esac
