#!/usr/bin/env bash
# Installs what scripts/browser-interop.sh needs: Debian's chromium (apt, as root) and the npm
# packages pinned in tests/browser/package-lock.json (@moq/lite, esbuild). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-browser: chromium is missing; install it as root (apt-get install chromium)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null 2>&1 || { echo "setup-browser: node (>= 20) and npm are required" >&2; exit 1; }
if [ ! -d tests/browser/node_modules/@moq/lite ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup-browser: $(chromium --version 2>/dev/null), @moq/lite $(node -p 'require("./tests/browser/node_modules/@moq/lite/package.json").version')"
