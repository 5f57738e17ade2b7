#!/usr/bin/env python3
"""How long `cove acp` makes an editor wait, outside the model.

A fake OpenAI-compatible server in this process answers every chat request at once with
a reply streamed as 200 small chunks. Per run, a fresh `cove acp` in its own home and
workspace is spoken to as an editor would: initialize, session/new, one prompt.

ready:        spawn to the answer of session/new (start-up, config, the session's agent)
first chunk:  session/prompt sent to the first agent_message_chunk received, minus the
              server's time to its first byte (the request is built, sent, parsed, and
              the increment forwarded as a session/update)
whole reply:  session/prompt sent to its answer (end_turn), all 200 increments forwarded
Medians over --runs.

usage: benches/acp_latency.py [--cove PATH] [--runs N] [--max-first-ms MS] [--max-ready-ms MS]
  exits 1 when a median is over its maximum (a regression check)
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNKS = 200


def reply_body():
    out = []
    first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello"}}]}
    out.append(first)
    for i in range(CHUNKS - 1):
        out.append({"choices": [{"index": 0, "delta": {"content": f" w{i}"}}]})
    out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in out) + "data: [DONE]\n\n"


class Server:
    def __init__(self):
        self.first_byte = []
        outer = self
        body = reply_body().encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def do_GET(self):
                data = b'{"object":"list","data":[{"id":"fake-model"}]}'
                self.send_response(200 if self.path == "/v1/models" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                start = time.perf_counter()
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                outer.first_byte.append(time.perf_counter() - start)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}/v1"


def one_run(cove, server):
    home = tempfile.mkdtemp(prefix="cove-acp-bench-")
    ws = os.path.join(home, "ws")
    os.makedirs(ws)
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_STATE_HOME": os.path.join(home, "state"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "COVE_BASE_URL": server.url, "COVE_MODEL": "fake-model",
    }
    start = time.perf_counter()
    p = subprocess.Popen([cove, "acp"], cwd=ws, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)

    def send(msg):
        p.stdin.write((json.dumps(msg) + "\n").encode())
        p.stdin.flush()

    def until(pred):
        while True:
            line = p.stdout.readline()
            if not line:
                raise SystemExit("cove acp ended early")
            msg = json.loads(line)
            if pred(msg):
                return msg

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}})
    until(lambda m: m.get("id") == 1)
    send({"jsonrpc": "2.0", "id": 2, "method": "session/new", "params": {"cwd": ws, "mcpServers": []}})
    sid = until(lambda m: m.get("id") == 2)["result"]["sessionId"]
    ready = time.perf_counter() - start
    server.first_byte.clear()
    sent = time.perf_counter()
    send({"jsonrpc": "2.0", "id": 3, "method": "session/prompt",
          "params": {"sessionId": sid, "prompt": [{"type": "text", "text": "hi"}]}})
    until(lambda m: m.get("params", {}).get("update", {}).get("sessionUpdate") == "agent_message_chunk")
    first = time.perf_counter() - sent - (server.first_byte[0] if server.first_byte else 0)
    done = until(lambda m: m.get("id") == 3)
    whole = time.perf_counter() - sent
    if done.get("result", {}).get("stopReason") != "end_turn":
        raise SystemExit(f"unexpected answer: {done}")
    p.stdin.close()
    p.wait(timeout=10)
    shutil.rmtree(home, ignore_errors=True)
    return ready, first, whole


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cove", default="target/release/cove")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--max-first-ms", type=float)
    ap.add_argument("--max-ready-ms", type=float)
    a = ap.parse_args()
    server = Server()
    cove = os.path.abspath(a.cove)
    runs = [one_run(cove, server) for _ in range(a.runs)]
    ready = statistics.median(r[0] for r in runs) * 1000
    first = statistics.median(r[1] for r in runs) * 1000
    whole = statistics.median(r[2] for r in runs) * 1000
    print(f"cove acp: session ready {ready:.1f} ms, first chunk +{first:.1f} ms, "
          f"whole reply ({CHUNKS} chunks) {whole:.1f} ms (median of {a.runs})")
    bad = []
    if a.max_first_ms is not None and first > a.max_first_ms:
        bad.append(f"first chunk {first:.1f} ms > {a.max_first_ms} ms")
    if a.max_ready_ms is not None and ready > a.max_ready_ms:
        bad.append(f"session ready {ready:.1f} ms > {a.max_ready_ms} ms")
    if bad:
        raise SystemExit("regression: " + "; ".join(bad))


if __name__ == "__main__":
    main()
