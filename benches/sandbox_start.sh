#!/usr/bin/env bash
# What the sandbox adds to starting a short command: `cove sandbox -- true` with the
# sandbox on (the default) against the same with `[sandbox] mode = "off"`, both on the
# release build, 100 runs each after 20 warm-up runs. The difference
# is the sandbox: the exec of cove-sandbox-helper, the namespaces, the read-only binds,
# Landlock, the fork of the namespace's PID 1 and the private temp dir.
#
# usage: benches/sandbox_start.sh [MAX_MS]   prints the figures; with MAX_MS, fails when
#        the added median is above it.
set -euo pipefail
cd "$(dirname "$0")/.."

max_ms=${1:-}
cargo build --release --quiet
cove=$PWD/target/release/cove

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/config/cove" "$work/ws/.git"
echo '[sandbox]' >"$work/home/config/cove/config.toml"
printf '[sandbox]\nmode = "off"\n' >"$work/off.toml"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_STATE_HOME="$work/home/state"
cd "$work/ws"

# on and off alternate, so both see the same machine (a busy neighbour slows both alike);
# the figure is the median of the 100 differences
python3 - "$cove" "$work/off.toml" "$max_ms" <<'PY'
import statistics, subprocess, sys, time
cove, off, limit = sys.argv[1], sys.argv[2], sys.argv[3]
on_cmd = [cove, "sandbox", "--", "true"]
off_cmd = [cove, "--config", off, "sandbox", "--", "true"]
def once(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000
for _ in range(20):  # warm-up
    once(on_cmd); once(off_cmd)
on, offs = [], []
for i in range(100):
    # which goes first alternates too
    if i % 2:
        on.append(once(on_cmd)); offs.append(once(off_cmd))
    else:
        offs.append(once(off_cmd)); on.append(once(on_cmd))
diffs = [a - b for a, b in zip(on, offs)]
added = statistics.median(diffs)
print(f"cove sandbox -- true: {statistics.median(on):.2f} ms sandboxed, {statistics.median(offs):.2f} ms unsandboxed (median of 100 each, alternating)")
print(f"sandbox start-up overhead: {added:.2f} ms (median of the 100 differences)")
if limit and added > float(limit):
    print(f"REGRESSION: the sandbox adds {added:.2f} ms > {float(limit):.1f} ms", file=sys.stderr)
    sys.exit(1)
PY
