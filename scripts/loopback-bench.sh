#!/usr/bin/env bash
# Relay throughput over loopback: one `sluice publish` → `sluice relay` → 1 and 10
# `sluice subscribe`s, for moq-lite-04 and MOQT draft-18, each a separate process.
#
# Reports per case: objects/s delivered (summed over subscribers, from the publisher's
# start to the last subscriber's exit), MB/s delivered, and the relay process's CPU
# seconds (user + system, from /proc/<pid>/stat) per GB delivered.
#
# Usage: bash scripts/loopback-bench.sh            (MB=100 of 1200-byte objects per case)
#        MB=20 SLUICE=path/to/sluice bash scripts/loopback-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-100}
OBJECT=${OBJECT:-1200}
GROUP=${GROUP:-30}
if [[ -z "${SLUICE:-}" ]]; then
  cargo build --release -q -p sluice-cli
  SLUICE="${CARGO_TARGET_DIR:-target}/release/sluice"
fi
TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wait_for() { # file text
  for _ in $(seq 1 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.025; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

printf '| version | subscribers | objects delivered | bytes delivered / sent × subscribers | objects/s | MB/s | relay CPU s/GB |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for version in lite-04 d18; do
  for subs in 1 10; do
    "$SLUICE" -v relay --listen 127.0.0.1:0 --subscribe-wait 30 2> "$WORK/relay.log" &
    relay=$!
    wait_for "$WORK/relay.log" listening
    port=$(grep listening "$WORK/relay.log" | sed 's/.*://')
    fp=$(grep fingerprint "$WORK/relay.log" | cut -d' ' -f2)
    url="moqt://127.0.0.1:$port/bench"
    common=(--url "$url" --fingerprint "$fp" --version "$version" --namespace bench --track data)
    pids=()
    for i in $(seq 1 "$subs"); do
      "$SLUICE" subscribe "${common[@]}" > /dev/null 2> "$WORK/sub$i.log" &
      pids+=($!)
    done
    wait_for "$WORK/relay.log" "waiting for a publisher: $subs"
    cpu0=$(cpu_ticks "$relay")
    t0=$(date +%s.%N)
    head -c "$((MB * 1000 * 1000))" /dev/zero |
      "$SLUICE" publish "${common[@]}" --chunk-size "$OBJECT" --group-size "$GROUP" 2> "$WORK/pub.log"
    for p in "${pids[@]}"; do wait "$p" || true; done
    t1=$(date +%s.%N)
    cpu1=$(cpu_ticks "$relay")
    kill "$relay"; wait "$relay" 2>/dev/null || true
    objects=0; bytes=0
    for i in $(seq 1 "$subs"); do
      line=$(grep '^received' "$WORK/sub$i.log" || echo "received 0 objects (0 bytes)")
      objects=$((objects + $(echo "$line" | awk '{print $2}')))
      bytes=$((bytes + $(echo "$line" | sed 's/.*(\([0-9]*\) bytes).*/\1/')))
    done
    awk -v v="$version" -v s="$subs" -v o="$objects" -v b="$bytes" -v t0="$t0" -v t1="$t1" \
        -v c0="$cpu0" -v c1="$cpu1" -v tick="$TICK" -v want="$((subs * MB * 1000 * 1000))" 'BEGIN {
      secs = t1 - t0; cpu = (c1 - c0) / tick
      printf "| %s | %d | %d | %.4f | %.0f | %.1f | %s |\n", v, s, o, b / want, o / secs, b / secs / 1e6,
        (b > 0 ? sprintf("%.2f", cpu / (b / 1e9)) : "n/a")
    }'
  done
done
