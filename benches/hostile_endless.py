#!/usr/bin/env python3
"""A server that never stops, against the real full-screen session.

A fake OpenAI-compatible server on 127.0.0.1 answers with content deltas sent as fast as
the socket takes them, for ever. The release `cove` runs in tmux against it:

1. with `max_reply_bytes` set far away, it streams for a few seconds while VmRSS is
   sampled; then Esc, and the time until the screen shows the reply as interrupted;
2. with the default limit (4 MiB), the reply must end by itself, cut short, with a notice;
3. Ctrl+C twice must end the process.

Prints the figures; with --check, exits 1 when the peak memory passes --max-mib, Esc
takes longer than --max-esc-ms, or a step does not happen.

usage: benches/hostile_endless.py [--seconds S] [--check] [--max-mib M] [--max-esc-ms T]
"""
import argparse, http.server, json, os, shutil, socketserver, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=0.5)
ap.add_argument("--limit", type=int, default=16 * 1024 * 1024, help="max_reply_bytes for the Esc part")
ap.add_argument("--check", action="store_true")
ap.add_argument("--max-mib", type=float, default=300.0)
ap.add_argument("--max-esc-ms", type=float, default=500.0)
args = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cove = os.path.join(root, "target", "release", "cove")
if not os.path.exists(cove):
    sys.exit("build the release binary first: cargo build --release")

PIECE = ("data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "endless words "}}]}) + "\n\n").encode()
BATCH = PIECE * 2000

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        b = json.dumps({"data": [{"id": "endless-model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"%x\r\n" % len(BATCH) + BATCH + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{srv.server_address[1]}/v1"

home = tempfile.mkdtemp()
ws = os.path.join(home, "ws")
os.makedirs(ws)
os.makedirs(os.path.join(home, "config", "cove"))
session = f"endless{os.getpid()}"
failures = []

def pane():
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

def keys(*k):
    subprocess.run(["tmux", "send-keys", "-t", session, *k])

def pid():
    out = subprocess.run(["pgrep", "-f", "-n", f"^{cove}$"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None

def rss_kib(p):
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0

def wait(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    return False

def start(limit):
    with open(os.path.join(home, "config", "cove", "config.toml"), "w") as f:
        f.write(f"[model]\napi_base = \"{url}\"\nname = \"endless-model\"\n")
        if limit:
            f.write(f"max_reply_bytes = {limit}\n")
    env = f"HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state"
    subprocess.run(["tmux", "new", "-d", "-s", session, "-x", "120", "-y", "40", f"cd {ws} && env {env} {cove}"], check=True)
    if not wait(lambda: "F1 help" in pane(), 15):
        sys.exit("cove did not start")
    time.sleep(0.3)
    return pid()

try:
    # 1. stream for a while, then Esc
    p = start(args.limit)
    base = rss_kib(p)
    keys("-l", "go")
    keys("Enter")
    peak = base
    t0 = time.time()
    while time.time() - t0 < args.seconds:
        peak = max(peak, rss_kib(p))
        time.sleep(0.05)
    sent = time.time()
    keys("Escape")
    if not wait(lambda: "interrupted" in pane(), 5):
        failures.append("Esc: the reply was never shown as interrupted")
    esc_ms = (time.time() - sent) * 1000
    after = rss_kib(p)
    print(f"endless stream for {args.seconds:.1f} s (max_reply_bytes {args.limit}): {base/1024:.1f} MiB at start, {peak/1024:.1f} MiB peak, {after/1024:.1f} MiB after Esc")
    print(f"Esc to the reply shown interrupted: {esc_ms:.0f} ms")
    if peak / 1024 > args.max_mib:
        failures.append(f"peak memory {peak/1024:.0f} MiB > {args.max_mib:.0f} MiB")
    if esc_ms > args.max_esc_ms:
        failures.append(f"Esc took {esc_ms:.0f} ms > {args.max_esc_ms:.0f} ms")
    keys("C-c"); keys("C-c")
    if not wait(lambda: rss_kib(p) == 0, 5):
        failures.append("Ctrl+C twice did not end cove")
    subprocess.run(["tmux", "kill-session", "-t", session])

    # 2. the default limit ends the reply by itself
    p = start(None)
    keys("-l", "go")
    keys("Enter")
    t0 = time.time()
    peak = rss_kib(p)
    def cut():
        nonlocal_peak[0] = max(nonlocal_peak[0], rss_kib(p))
        return "max_reply_bytes" in pane()
    nonlocal_peak = [peak]
    if wait(cut, 30):
        print(f"default limit: the reply was cut at 4 MiB after {time.time() - t0:.1f} s, {nonlocal_peak[0]/1024:.1f} MiB peak")
    else:
        failures.append("the default max_reply_bytes did not end the endless reply")
finally:
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    srv.shutdown()
    shutil.rmtree(home, ignore_errors=True)

if failures:
    print("FAILED: " + "; ".join(failures), file=sys.stderr)
    if args.check:
        sys.exit(1)
