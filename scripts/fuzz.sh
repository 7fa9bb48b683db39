#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), then minimizes its corpus.
# Needs the nightly toolchain and cargo-fuzz (installed here if missing).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-600}"
shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(lite_stream lite_datagram moqt_control moqt_data_stream moqt_datagram session_inputs wt_connection wt_qpack)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t for ${seconds}s"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "$t" -- -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $t found a crash: see fuzz/artifacts/$t (move the input to fuzz/regressions/$t once fixed)"
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units)" "$log" || true
  rm -f "$log"
  cargo +nightly fuzz cmin "$t" >/dev/null 2>&1
  echo "   corpus: $(ls "corpus/$t" | wc -l) inputs"
done
