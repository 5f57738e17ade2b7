#!/usr/bin/env python3
"""Time `cove exec` adds outside the model, for a 3-turn healing run.

A fake OpenAI-compatible server in this process answers at once. The run: the check
`test "$(cat count.txt)" = 3` fails after turns 1 and 2 and passes after turn 3; each turn
is two model requests (a `write_file` call that writes the turn's number, then a short
answer), so one run is 6 requests, 3 approved writes, 3 sandboxed checks, a journal
written and fsync'd record by record, and the process's own start and exit.

overhead = wall time from spawn to exit - the time the server spent on requests (from a
request's first byte to the reply's last). Also printed: start-up (spawn to the first chat
request, the server probe included), the time between turns, and the end (last reply to
exit). Medians over --runs fresh processes, each in its own home and workspace.

usage: benches/exec_overhead.py [--cove PATH] [--runs N] [--max-ms MS] [--sandbox-off]
  --max-ms: exit 1 when the median overhead exceeds MS (a regression check)
  --sandbox-off: checks without the sandbox ([sandbox] mode = "off"), for comparison
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHECK = 'test "$(cat count.txt 2>/dev/null)" = 3'


def sse(chunks):
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def tool_call(n):
    args = json.dumps({"path": "count.txt", "content": f"{n}"})
    return sse([
        {"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 0, "id": f"call{n}", "type": "function",
             "function": {"name": "write_file", "arguments": args}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ])


def answer(text):
    return sse([
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 5, "total_tokens": 105}},
    ])


class Server:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle on, the body waits for the
            # client's delayed ACK (40 ms) and the bench would measure the kernel, not cove
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def do_GET(self):
                start = time.perf_counter()
                if self.path == "/v1/models":
                    body = b'{"object":"list","data":[{"id":"fake-model"}]}'
                    self.send_response(200)
                else:
                    body = b'{"error":{"message":"no such route"}}'
                    self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.record("GET", start)

            def do_POST(self):
                start = time.perf_counter()
                n = int(self.headers.get("Content-Length", 0))
                self.rfile.read(n)
                with outer.lock:
                    i = outer.posts
                    outer.posts += 1
                turn = i // 2 + 1
                body = (tool_call(turn) if i % 2 == 0 else answer(f"Wrote {turn}.")).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                outer.record("POST", start)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/v1"

    def reset(self):
        self.posts = 0
        self.spans = []  # (method, start, end)

    def record(self, method, start):
        with self.lock:
            self.spans.append((method, start, time.perf_counter()))


def one_run(cove, server, sandbox_off=False):
    # TMPDIR=/dev/shm puts the home (the journal) and workspace on tmpfs: no disk syncs
    home = tempfile.mkdtemp(prefix="cove-exec-bench-")
    ws = os.path.join(home, "ws")
    os.makedirs(ws)
    if sandbox_off:
        os.makedirs(os.path.join(home, "config", "cove"))
        with open(os.path.join(home, "config", "cove", "config.toml"), "w") as f:
            f.write('[sandbox]\nmode = "off"\n')
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_STATE_HOME": os.path.join(home, "state"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
    }
    server.reset()
    start = time.perf_counter()
    p = subprocess.run(
        [cove, "exec", "--base-url", server.url, "--model", "fake-model",
         "--auto-approve", "edits", "--verify", CHECK, "--max-turns", "3", "count to three"],
        cwd=ws, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.perf_counter()
    shutil.rmtree(home, ignore_errors=True)
    if p.returncode != 0 or server.posts != 6:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        raise SystemExit(f"the run did not go as scripted (exit {p.returncode}, {server.posts} requests)")
    posts = sorted(s for s in server.spans if s[0] == "POST")
    model = sum(e - s for _, s, e in server.spans)
    between = [posts[i + 1][1] - posts[i][2] for i in (1, 3)]  # after turn 1 and 2's answers
    return {
        "wall": (end - start) * 1000,
        "model": model * 1000,
        "overhead": (end - start - model) * 1000,
        "startup": (posts[0][1] - start) * 1000,
        "between_turns": statistics.mean(between) * 1000,
        "end": (end - posts[-1][2]) * 1000,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cove", default="target/release/cove")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--max-ms", type=float, default=None)
    ap.add_argument("--sandbox-off", action="store_true")
    a = ap.parse_args()
    a.cove = os.path.abspath(a.cove)
    server = Server()
    for _ in range(2):  # warm-up: page cache, the sandbox helper
        one_run(a.cove, server, a.sandbox_off)
    runs = [one_run(a.cove, server, a.sandbox_off) for _ in range(a.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    checks = "unsandboxed" if a.sandbox_off else "sandboxed"
    print(f"cove exec, 3 turns (6 requests, 3 writes, 3 {checks} checks), {a.runs} runs, medians:")
    print(f"  wall {med['wall']:.1f} ms, of which the server {med['model']:.1f} ms")
    print(f"  overhead {med['overhead']:.1f} ms (min {min(r['overhead'] for r in runs):.1f}): "
          f"start-up to the first request {med['startup']:.1f} ms, "
          f"between turns (check + next request) {med['between_turns']:.1f} ms each, "
          f"last reply to exit {med['end']:.1f} ms")
    if a.max_ms is not None and med["overhead"] > a.max_ms:
        print(f"REGRESSION: exec adds {med['overhead']:.1f} ms > {a.max_ms} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
