#!/usr/bin/env bash
# Quick start: build cove, make sure a model server answers (starting the bundled local
# llama-server + SmolLM2-135M when none is configured or reachable), and launch cove.
#
# usage: scripts/start.sh            the full-screen session
#        scripts/start.sh PROMPT     one answer (`cove ask PROMPT`)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
cove=target/release/cove

if "$cove" models >/dev/null 2>&1; then
  echo "using the configured model server ($("$cove" config | sed -n 's/^model.api_base = \(.*\)  *#.*/\1/p' | tr -s ' '))" >&2
else
  echo "no configured model server answers; starting the bundled local model (first run builds llama-server, ~10 minutes)" >&2
  COVE_BASE_URL=$(scripts/local-model.sh)
  export COVE_BASE_URL
  echo "local model at $COVE_BASE_URL (stop it with scripts/local-model.sh --stop)" >&2
fi

if [ $# -gt 0 ]; then
  exec "$cove" ask "$*"
fi
exec "$cove"
