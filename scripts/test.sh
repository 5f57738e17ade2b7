#!/usr/bin/env bash
# cove's whole test suite, as CI runs it (.ci/run calls this). Works on a fresh machine:
# installs what it needs, provisions the real local model (scripts/local-model.sh,
# cached in the user cache dir), then runs fmt, clippy, every test, the end-to-end tests
# against the real model, and the benchmarks as regression checks.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "prerequisites"
# command:Debian package (Xvfb and xclip: the X clipboard test of image pasting; hyperfine:
# the sandbox start-up bench; strace, ip and unshare: the ledger's completeness test in an
# empty network namespace)
missing=()
for pair in curl:curl python3:python3 npm:npm tmux:tmux Xvfb:xvfb xclip:xclip hyperfine:hyperfine strace:strace ip:iproute2 unshare:util-linux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing ${missing[*]} and no apt-get to install them" >&2
    exit 1
  fi
fi
# pytest, for the test that runs it inside the sandbox (tests/sandbox.rs): in a venv in the
# cache (PEP 668 Pythons refuse a plain pip install)
pytest_venv="${XDG_CACHE_HOME:-$HOME/.cache}/cove-dev/pytest-venv"
if ! "$pytest_venv/bin/python" -c 'import pytest' >/dev/null 2>&1; then
  echo "installing pytest into $pytest_venv"
  { python3 -m venv "$pytest_venv" && "$pytest_venv/bin/pip" install --quiet pytest; } ||
    echo "pytest could not be installed: the sandbox's pytest test will say it was skipped" >&2
fi
export COVE_TEST_PYTHON="$pytest_venv/bin/python"
# a real MCP server for tests/mcp_everything.rs: @modelcontextprotocol/server-everything from
# npm, pinned, in the cache
mcp_dir="${XDG_CACHE_HOME:-$HOME/.cache}/cove-dev/mcp-everything"
mcp_version="2026.8.31"
if [ ! -x "$mcp_dir/node_modules/.bin/mcp-server-everything" ] ||
  ! grep -q "\"version\": \"$mcp_version\"" "$mcp_dir/node_modules/@modelcontextprotocol/server-everything/package.json" 2>/dev/null; then
  command -v npm >/dev/null 2>&1 || { echo "npm is needed for the MCP tests (apt-get install npm)" >&2; exit 1; }
  echo "installing @modelcontextprotocol/server-everything@$mcp_version into $mcp_dir"
  mkdir -p "$mcp_dir"
  npm install --silent --no-audit --no-fund --prefix "$mcp_dir" "@modelcontextprotocol/server-everything@$mcp_version" >/dev/null
fi
export COVE_TEST_MCP_EVERYTHING="$mcp_dir/node_modules/.bin/mcp-server-everything"
# an ACP client for tests/acp_sdk.rs: the official @agentclientprotocol/sdk, pinned, in the
# cache
acp_dir="${XDG_CACHE_HOME:-$HOME/.cache}/cove-dev/acp-sdk"
acp_version="2.4.0"
if ! grep -q "\"version\": \"$acp_version\"" "$acp_dir/node_modules/@agentclientprotocol/sdk/package.json" 2>/dev/null; then
  echo "installing @agentclientprotocol/sdk@$acp_version into $acp_dir"
  mkdir -p "$acp_dir"
  npm install --silent --no-audit --no-fund --prefix "$acp_dir" "@agentclientprotocol/sdk@$acp_version" >/dev/null
fi
export COVE_TEST_ACP_SDK="$acp_dir"
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$comp"
  fi
done

# The local model's llama.cpp build (about 10 minutes on 2 cores when it is not cached)
# runs beside the Rust build, at a lower priority; it is waited for before the model starts.
prebuild_log=$(mktemp)
nice -n 10 scripts/local-model.sh --build >"$prebuild_log" 2>&1 &
prebuild_pid=$!

step "format"
cargo fmt --all -- --check

step "clippy (warnings denied)"
cargo clippy --all-targets --all-features --quiet -- -D warnings

step "unit, property and integration tests (fake server)"
cargo test --quiet

step "local model (llama-server + SmolLM2-135M)"
if ! wait "$prebuild_pid"; then
  cat "$prebuild_log" >&2
  echo "the local model could not be built (log above)" >&2
  exit 1
fi
started_here=0
if ! url=$(scripts/local-model.sh --status); then
  url=$(scripts/local-model.sh)
  started_here=1
fi
cleanup() { if [ "$started_here" = 1 ]; then scripts/local-model.sh --stop || true; fi; }
trap cleanup EXIT
echo "model server: $url"

step "end-to-end tests against the real model"
COVE_E2E_BASE_URL="$url" cargo test --quiet --features e2e --test e2e_local --test e2e_limits --test e2e_exec --test e2e_acp

step "benchmarks (regression checks)"
scripts/bench-check.sh "$url"

step "printed tool calls from the real model (recovery table)"
python3 scripts/recovery-table.py "$url" target/release/cove

# reuses bench-check's release build; cargo-deb is installed once into the cargo home (the
# vendored offline build is a manual check: README, Install)
step "Debian package (scripts/package.sh, scripts/package-check.sh)"
scripts/package.sh
scripts/package-check.sh

echo
echo "all checks passed"
