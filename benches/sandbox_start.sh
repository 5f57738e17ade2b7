#!/usr/bin/env bash
# What the sandbox adds to starting a short command: `cove sandbox -- true` with the
# sandbox on (the default) against the same with `[sandbox] mode = "off"`, both on the
# release build, median of 100 runs each (hyperfine, after 20 warm-up runs). The difference
# is the sandbox: the exec of cove-sandbox-helper, the namespaces, the read-only binds,
# Landlock, the fork of the namespace's PID 1 and the private temp dir.
#
# usage: benches/sandbox_start.sh [MAX_MS]   prints the figures; with MAX_MS, fails when
#        the added median is above it.
set -euo pipefail
cd "$(dirname "$0")/.."

max_ms=${1:-}
command -v hyperfine >/dev/null || { echo "hyperfine is needed (Debian package hyperfine)" >&2; exit 1; }
cargo build --release --quiet
cove=$PWD/target/release/cove

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/config/cove" "$work/ws/.git"
echo '[sandbox]' >"$work/home/config/cove/config.toml"
printf '[sandbox]\nmode = "off"\n' >"$work/off.toml"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_STATE_HOME="$work/home/state"
cd "$work/ws"

hyperfine -N --style none --warmup 20 --runs 100 --export-json "$work/times.json" \
  "$cove sandbox -- true" \
  "$cove --config $work/off.toml sandbox -- true" >/dev/null 2>&1

python3 - "$work/times.json" "$max_ms" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["results"]
on, off = (r["median"] * 1000 for r in runs)
added = on - off
print(f"cove sandbox -- true: {on:.2f} ms sandboxed, {off:.2f} ms unsandboxed (median of 100)")
print(f"sandbox start-up overhead: {added:.2f} ms (median)")
if sys.argv[2]:
    limit = float(sys.argv[2])
    if added > limit:
        print(f"REGRESSION: the sandbox adds {added:.2f} ms > {limit:.1f} ms", file=sys.stderr)
        sys.exit(1)
PY
