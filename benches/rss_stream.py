#!/usr/bin/env python3
"""Memory of the full-screen session under a very fast stream.

Starts a fake OpenAI-compatible server on 127.0.0.1 that answers each request with
N content deltas sent as fast as the socket takes them, runs the release `cove` in a
tmux session against it, sends a few messages, and samples the process's resident
memory (VmRSS) every 100 ms. Prints the baseline, the peak while streaming, and the
value after each reply; the growth should be about the transcript's own text (the reply
kept for the chat), not a backlog of undrawn events.

usage: benches/rss_stream.py [--deltas N] [--replies R]
"""
import argparse, http.server, json, os, shutil, socketserver, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--deltas", type=int, default=200_000)
ap.add_argument("--replies", type=int, default=3)
ap.add_argument("--plain", action="store_true", help="words only: no Markdown, no paragraphs")
args = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cove = os.path.join(root, "target", "release", "cove")
if not os.path.exists(cove):
    sys.exit("build the release binary first: cargo build --release")

def body(n):
    words = ["alpha ", "beta ", "gamma ", "delta ", "`code` ", "**bold** ", "\n\n"]
    if args.plain:
        words = ["alpha ", "beta ", "gamma ", "delta "]
    parts = []
    for i in range(n):
        chunk = {"choices": [{"index": 0, "delta": {"content": words[i % len(words)]}}]}
        parts.append("data: " + json.dumps(chunk) + "\n\n")
    parts.append("data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + "\n\n")
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()

BODY = body(args.deltas)
SERVED = [0]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        b = json.dumps({"data": [{"id": "fast-model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
        self.wfile.flush()
        SERVED[0] += 1
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
session = f"rss{os.getpid()}"
env = os.environ.get("RSS_EXTRA_ENV", "") + f" HOME={home} XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state COVE_BASE_URL={url}"
subprocess.run(["tmux", "new", "-d", "-s", session, "-x", "120", "-y", "40",
                f"cd {ws} && env {env} {cove}"], check=True)

def pane():
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout

def pid():
    out = subprocess.run(["pgrep", "-f", "-n", f"^{cove}$"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None

def rss_kib(p):
    with open(f"/proc/{p}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

try:
    deadline = time.time() + 15
    while "F1 help" not in pane() and time.time() < deadline:
        time.sleep(0.1)
    p = pid()
    if p is None:
        sys.exit("cove did not start")
    time.sleep(0.5)
    base = rss_kib(p)
    print(f"baseline: {base/1024:.1f} MiB")
    peak = base
    for r in range(args.replies):
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", f"reply {r}"])
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"])
        start = time.time()
        while time.time() - start < 120:
            peak = max(peak, rss_kib(p))
            # done: the server sent this reply, and the UI is no longer streaming it
            if SERVED[0] > r and "Esc interrupts" not in pane():
                break
            time.sleep(0.05)
        took = time.time() - start
        print(f"after reply {r + 1} ({args.deltas} deltas, {took:.1f} s): {rss_kib(p)/1024:.1f} MiB, peak so far {peak/1024:.1f} MiB")
finally:
    subprocess.run(["tmux", "kill-session", "-t", session])
    srv.shutdown()
    shutil.rmtree(home, ignore_errors=True)
