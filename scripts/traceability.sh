#!/usr/bin/env bash
# Spec traceability (docs/traceability/): checks the requirement tables (statuses, cited tests
# exist) and prints the covered fraction: rows with status test/codec/reason over all rows.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test -p sluice-wire --test traceability -- --nocapture 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep 'covered'
