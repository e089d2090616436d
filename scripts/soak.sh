#!/usr/bin/env bash
# A soak run: the embedded broker, `tickgate serve` and a feed at a steady
# rate, with clients that connect, subscribe, read slowly, stall, resume
# and leave at random (scripts/soak_clients.py), for a given time. Samples
# the gateway's RSS, open descriptors and live call objects every 5 s, and
# fails if they grow beyond noise from the first quarter to the last, or if
# any client saw a gap it was not told about.
#   scripts/soak.sh [SECONDS] [WORKERS]    (default 600 s, 16 workers; CI: 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
workers=${2:-16}
bin=${TICKGATE_BIN:-$PWD/.build/release/tickgate}
[[ -x $bin ]] || swift build -c release --product tickgate
[[ -x .venv/bin/python ]] || { echo "soak.sh: run scripts/test.sh once first (it makes .venv/)" >&2; exit 1; }
out=.test-output/soak
mkdir -p "$out"
stubs=$(mktemp -d)
pids=()
# Stops what it started in reverse order (clients and the feed, the
# gateway, then the broker), each given 20 s before SIGKILL, so that a
# process that does not stop can never hang CI. (A gateway stopped after
# its broker used to hang in librdkafka 2.0.2's watermark query, which
# ignores its timeout while the leader is down; README, "Gateway consumer".)
cleanup() {
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$stubs"
}
trap cleanup EXIT
.venv/bin/python -m grpc_tools.protoc --proto_path=Protos --python_out="$stubs" --grpc_python_out="$stubs" tickgate/v1/tickgate.proto

"$bin" broker --partitions 4 > "$out/broker.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do grep -q "bootstrap:" "$out/broker.log" && break; sleep 0.1; done
brokers=$(sed -n 's/^bootstrap: //p' "$out/broker.log")
"$bin" serve --brokers "$brokers" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --stale-after 5 > "$out/gateway.log" 2>&1 & gateway=$!
pids+=("$gateway")
for _ in $(seq 200); do grep -q "metrics on" "$out/gateway.log" && break; sleep 0.1; done
address=$(sed -n 's/^gateway listening on \([^ ]*\) .*/\1/p' "$out/gateway.log")
metrics=$(sed -n 's/^metrics on \(.*\)$/\1/p' "$out/gateway.log")
symbols=$(seq -s, -f "SOAK%g-USD" 0 7)
"$bin" ingest --brokers "$brokers" --symbols "$symbols" --rate 2000 --duration "$((seconds + 20))" > "$out/ingest.log" 2>&1 & pids+=($!)
sleep 2

.venv/bin/python scripts/soak_clients.py "$address" "$seconds" "$workers" "$stubs" > "$out/clients.json" 2> "$out/clients.log" & clients=$!
echo "time_s rss_kib fds call_objects connections" > "$out/samples.txt"
start=$(date +%s)
while kill -0 "$clients" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/"$gateway"/status)
  fds=$(ls /proc/"$gateway"/fd | wc -l)
  page=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())' "$metrics" 2>/dev/null || true)
  calls=$(awk '/^tickgate_call_objects / {print $2}' <<<"$page")
  conns=$(awk '/^tickgate_connections / {print $2}' <<<"$page")
  echo "$(($(date +%s) - start)) $rss $fds ${calls:-?} ${conns:-?}" >> "$out/samples.txt"
  sleep 5
done
status=0
wait "$clients" || status=$?
cat "$out/clients.json"
# Flat: the last quarter's mean within 10 % + 8 MiB (RSS) and + 48 (fds)
# of the first quarter's (after warm-up: the first fifth is skipped).
python3 - "$out/samples.txt" <<'PY' || status=1
import sys
rows = [line.split() for line in open(sys.argv[1]).read().splitlines()[1:]]
rows = [r for r in rows if len(r) == 5]
rows = rows[max(1, len(rows) // 5):]  # the first fifth is warm-up
q = max(1, len(rows) // 4)
def mean(part, i): return sum(float(r[i]) for r in part) / len(part)
first, last = rows[:q], rows[-q:]
rss0, rss1, fd0, fd1 = mean(first, 1), mean(last, 1), mean(first, 2), mean(last, 2)
print(f"soak: {len(rows)} samples; RSS {rss0/1024:.1f} -> {rss1/1024:.1f} MiB; fds {fd0:.0f} -> {fd1:.0f}")
# Descriptors: 16, plus the replay readers the gateway pools as resumes
# come (each a librdkafka consumer, ~8 fds; at most --max-replays, 4).
ok = rss1 <= rss0 * 1.10 + 8192 and fd1 <= fd0 + 16 + 8 * 4
print("soak: flat" if ok else "soak: GREW")
sys.exit(0 if ok else 1)
PY
if ((status)); then echo "soak.sh: FAILED (see $out/)" >&2; exit 1; fi
echo "soak.sh: passed ($seconds s, $workers workers; samples in $out/samples.txt)"
