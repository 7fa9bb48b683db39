#!/usr/bin/env bash
# Instructions per object through the sluice core (publisher + subscriber session), counted by
# callgrind: repeatable where wall-clock is not. Two runs per version (3000 and 6000 objects);
# the difference divided by 3000 cancels setup and warm-up. Profiles are kept in
# $OUT (default target/callgrind) for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
out="${OUT:-$target/callgrind}"
mkdir -p "$out"
cargo build --release -q -p sluice --example object_path_profile
bin="$target/release/examples/object_path_profile"
for v in ${VERSIONS:-lite04 lite05 draft18}; do
  declare -A ir
  for n in 3000 6000; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$v.$n.out" "$bin" "$v" "$n" >/dev/null 2>"$out/$v.$n.log"
    ir[$n]=$(grep -E '^(summary|totals):' "$out/$v.$n.out" | head -1 | awk '{print $2}')
  done
  echo "$v: $(( (ir[6000] - ir[3000]) / 3000 )) instructions/object"
done
