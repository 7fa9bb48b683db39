#!/usr/bin/env bash
# Issue 7's benchmarks in one run: builds everything in release mode, runs each peer
# comparison pair by pair alternating A B A B (ROUNDS times, to cancel machine drift), and
# prints markdown tables of medians and ratios, then the figures of the counting tests
# (allocations per object, memory, priorities). The README's Benchmarks section is a run
# of this script.
#
#   bash scripts/bench.sh             # ROUNDS=2 by default
#   ROUNDS=4 bash scripts/bench.sh    # more alternations
#
# Every timing is a divan median; a pair's figure is the median over its rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
PKG=sluice-bench-compare

log() { echo "$@" >&2; }

log "building benchmarks and tests (release)..."
cargo bench --locked -p "$PKG" -p sluice --no-run >&2
cargo test --locked --release -p "$PKG" --no-run >&2

# The executable of bench target $2 of package $1.
bench_bin() {
    cargo bench --locked -p "$1" --bench "$2" --no-run --message-format=json 2>/dev/null |
        grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | tail -1
}

# Runs one divan benchmark (exact path $2 of binary $1) and prints its median time in ns.
median_ns() {
    local leaf=${2##*::}
    "$1" --bench --exact "$2" | awk -v leaf="$leaf" '
        function ns(v, u) { return u == "ns" ? v : u == "µs" ? v * 1e3 : u == "ms" ? v * 1e6 : v * 1e9 }
        index($0, "─ " leaf " ") && $0 ~ /[0-9]/ {
            sub(".*─ " leaf " +", "")
            split($0, f, "│")
            split(f[3], m, " ")
            printf "%.2f\n", ns(m[1], m[2])
            exit
        }'
}

# Runs one divan benchmark and prints its median throughput in items per second.
median_items() {
    local leaf=${2##*::}
    "$1" --bench --exact "$2" | awk -v leaf="$leaf" '
        function per_s(v, u) { return u ~ /^G/ ? v * 1e9 : u ~ /^M/ ? v * 1e6 : u ~ /^K/ ? v * 1e3 : v }
        found && /item\/s/ {
            split($0, f, "│")
            split(f[3], m, " ")
            printf "%.0f\n", per_s(m[1], m[2])
            exit
        }
        index($0, "─ " leaf " ") && $0 ~ /[0-9]/ { found = 1 }'
}

# Median of the numbers on stdin.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "# sluice benchmarks"
echo
echo "Run $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown CPU)),"
echo "$(free -g | awk '/^Mem:/ { print $2 }') GiB memory (free -g), $(rustc --version | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "ROUNDS=$ROUNDS (each pair alternated A B A B...; a figure is the median over its rounds)."

# --- 1. Codec: sluice-wire vs moqtap-codec 0.9 -----------------------------------------
CODEC=$(bench_bin "$PKG" codec_compare)
echo
echo "## Codec: sluice-wire vs moqtap-codec 0.9 (draft-18), ns per operation"
echo
echo "| operation | sluice-wire | moqtap-codec | sluice speed-up (goal ≥ 1.5×) |"
echo "|---|---:|---:|---:|"
for pair in subscribe_decode subscribe_encode subscribe_ok_decode subscribe_ok_encode \
    subgroup_read subgroup_write subgroup_send fetch_read fetch_write; do
    a=()
    b=()
    for _ in $(seq "$ROUNDS"); do
        a+=("$(median_ns "$CODEC" "codec_compare::$pair::sluice")")
        b+=("$(median_ns "$CODEC" "codec_compare::$pair::moqtap")")
    done
    ma=$(printf '%s\n' "${a[@]}" | median)
    mb=$(printf '%s\n' "${b[@]}" | median)
    log "$pair: sluice ${a[*]} / moqtap ${b[*]}"
    awk -v p="$pair" -v a="$ma" -v b="$mb" 'BEGIN {
        r = b / a
        printf "| %s | %.1f | %.1f | %.2f× %s |\n", p, a, b, r, (r >= 1.5 ? "(met)" : "(not met)") }'
done
echo
echo "subgroup_*: SUBGROUP_HEADER + 30 objects of 1200 bytes (read: headers, payloads stepped"
echo "over; write: whole objects copied into one buffer, as the peer's writer does; send: each"
echo "side's own send path, sluice's inline header encode + payload Bytes handoff (no copy) vs the"
echo "peer's only writer, which copies). fetch_*: FETCH_HEADER + 30 object headers. Same bytes"
echo "on both sides (tests/codec_equivalence.rs)."

# --- 2. Core object path through a relay in sluice-sim ------------------------------------
FANOUT=$(bench_bin "$PKG" relay_fanout)
OBJPATH=$(bench_bin sluice object_path)
echo
echo "## Core object path, 1200-byte objects (goal ≥ 10 M objects/s/core)"
echo
echo "| case | version | objects/s | ns/object |"
echo "|---|---|---:|---:|"
row() { # binary, path, label
    local v=()
    for _ in $(seq "$ROUNDS"); do v+=("$(median_items "$1" "$2")"); done
    local m
    m=$(printf '%s\n' "${v[@]}" | median)
    awk -v c="$3" -v ver="${2##*::}" -v m="$m" 'BEGIN { printf "| %s | %s | %.2f M | %.0f |\n", c, ver, m / 1e6, 1e9 / m }'
}
for v in lite04 draft18; do
    row "$FANOUT" "relay_fanout::relay_1_to_1::$v" "sim: publisher → relay → 1 subscriber"
    row "$FANOUT" "relay_fanout::relay_1_to_100::$v" "sim: publisher → relay → 100 subscribers"
    row "$OBJPATH" "object_path::core_1_to_1::$v" "core only: 1 publisher → 1 subscriber session"
done
echo
echo "Per delivered object. relay rows: every session on the path (publisher, the relay's"
echo "upstream and downstream sessions, subscribers), the relay and the simulator's links."
echo "core only: the two sessions joined by a minimal pump (crates/sluice/benches/object_path.rs)."

# --- 3. Counting tests: allocations, memory, priorities -----------------------------------
echo
echo "## Allocations per object, memory, priorities under congestion"
echo
echo '```'
cargo test --locked --release -q -p "$PKG" --test fanout_allocs --test memory --test priority \
    -- --nocapture --test-threads 1 2>/dev/null | grep -oE '(lite|draft)-[0-9]+( 1 ->|:) .*' || true
echo '```'

# --- 4. Relay over real QUIC: sluice relay vs moq-relay ------------------------------------
echo
echo "## Relay over QUIC: sluice relay vs moq-relay 0.17.10"
echo
# The same publisher and N subscribers (1, 10, 100; one process, sluice-quinn clients)
# through `sluice relay` and through moq-relay 0.17.10 (benches/relay-compare's
# `moq-relay-bench`: the upstream binary's startup with the configuration in code), each a
# separate process on 127.0.0.1, alternating A B A B per version: relay CPU seconds per GB
# delivered (/proc/<pid>/stat utime+stime), delivered throughput, p50/p99 publish-to-receive
# latency. benches/relay-compare is a workspace of its own (moq-relay's dependency tree
# stays out of `cargo test`), built here only. RELAY_SECONDS, RELAY_RATE (objects/s),
# RELAY_SUBSCRIBERS (N, or N@RATE for a case with its own rate) and RELAY_VERSIONS
# override the defaults: 1 and 10 subscribers at 2000 objects/s, 100 at 200 objects/s
# (the same 24 MB/s out of the relay as 10 at 2000), and 100 at 2000 objects/s, which
# overloads this 2-core machine (240 MB/s offered) and shows how each relay degrades.
relay_vs_moq_relay() {
    cargo build --locked --release -q -p sluice-cli >&2
    cargo build --locked --release -q --manifest-path benches/relay-compare/Cargo.toml >&2
    local bin=${CARGO_TARGET_DIR:-target}/release
    [[ -n "${CARGO_TARGET_DIR:-}" ]] || bin=benches/relay-compare/target/release
    "$bin/relay-compare" --sluice "${CARGO_TARGET_DIR:-target}/release/sluice" \
        --moq-relay "$bin/moq-relay-bench" --rounds "$ROUNDS" \
        --seconds "${RELAY_SECONDS:-5}" --rate "${RELAY_RATE:-2000}" --size 1200 --group 30 \
        --subscribers "${RELAY_SUBSCRIBERS:-1,10,100@200,100}" --versions "${RELAY_VERSIONS:-lite-04,d18}"
    echo
    echo "Per run: the relay process's user + system CPU over the measured window (after a 1 s"
    echo "warm-up) per GB of payload the subscribers received in it; delivered MB/s (and the"
    echo "share of what was offered: rate × window × subscribers); latency from the publisher's"
    echo "write to the subscriber's event, same process clock. Figures are medians over ROUNDS."
}
relay_vs_moq_relay
