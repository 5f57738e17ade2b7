#!/usr/bin/env python3
"""The printed tool-call forms cove recovers, produced by the real local model.

SmolLM2-135M cannot be prompted into printing a given form, so a loopback proxy between
cove and llama-server takes the tools out of each request and adds a GBNF grammar that
makes the model write one form exactly: real tokens, streamed in llama-server's real SSE
framing and split where its tokenizer splits them. cove offers its tools (`cove ask
--tools`) and must turn the text back into a call. Prints the recovery table (Markdown)
and exits 1 if a form was not recovered.

usage: scripts/recovery-table.py BASE_URL [COVE_BINARY]
"""
import http.client
import http.server
import json
import subprocess
import sys
import threading
import urllib.parse

FORMS = [
    ("Hermes / Qwen `<tool_call>{json}</tool_call>`",
     'Let me look.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"}}\n</tool_call>'),
    ("Qwen3-Coder XML `<function=…><parameter=…>`",
     "<tool_call>\n<function=read_file>\n<parameter=path>\nREADME.md\n</parameter>\n</function>\n</tool_call>"),
    ("Mistral `[TOOL_CALLS]name[ARGS]{json}`",
     '[TOOL_CALLS]read_file[ARGS]{"path": "README.md"}'),
    ("Mistral `[TOOL_CALLS]name{json}`",
     '[TOOL_CALLS]read_file{"path": "README.md"}'),
    ("Mistral `[TOOL_CALLS][{…}]`",
     '[TOOL_CALLS][{"name": "read_file", "arguments": {"path": "README.md"}}]'),
    ("Llama 3 `<|python_tag|>{json}`",
     '<|python_tag|>{"name": "read_file", "parameters": {"path": "README.md"}}'),
    ("bare call object as the whole reply",
     '{"name": "read_file", "parameters": {"path": "README.md"}}'),
    ("fenced ```json block",
     'I will read it:\n```json\n{"name": "read_file", "arguments": {"path": "README.md"}}\n```'),
    ("almost JSON in `<tool_call>` (trailing comma)",
     '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md",},}\n</tool_call>'),
    ("almost JSON in `<tool_call>` (cut after the last value)",
     '<tool_call>\n{"name": "read_file", "arguments": {"path": "README.md"\n</tool_call>'),
]

forced = {"text": ""}


def gbnf_literal(text):
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'root ::= "{out}"'


def make_proxy(upstream):
    up = urllib.parse.urlsplit(upstream)

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def relay(self, method, body):
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            while True:
                piece = resp.read1(65536)
                if not piece:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            conn.close()

        def do_GET(self):
            self.relay("GET", None)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "tools" in body:
                for key in ("tools", "tool_choice", "parallel_tool_calls"):
                    body.pop(key, None)
                body["grammar"] = gbnf_literal(forced["text"])
            self.relay("POST", json.dumps(body).encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    cove = sys.argv[2] if len(sys.argv) > 2 else "target/release/cove"
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    proxy = make_proxy(root)
    url = f"http://127.0.0.1:{proxy.server_address[1]}/v1"
    failed = 0
    print("| printed form | recovered from the real model's stream | note on the call |")
    print("|---|---|---|")
    for name, text in FORMS:
        forced["text"] = text
        run = subprocess.run(
            [cove, "ask", "--tools", "--json", "--base-url", url, "Read README.md"],
            capture_output=True, text=True, timeout=180,
        )
        ok, note = False, run.stderr.strip().splitlines()[-1:] or [""]
        try:
            out = json.loads(run.stdout)
            calls = out.get("tool_calls") or []
            if calls:
                c = calls[0]
                args = c["arguments"] if isinstance(c["arguments"], dict) else {}
                ok = c["name"] == "read_file" and c.get("recovered") and args.get("path") == "README.md"
                note = ["recovered from text" + (f", {c['repaired']}" if c.get("repaired") else "")]
            else:
                note = [f"not recovered; content: {out.get('content', '')[:60]!r}"]
        except (json.JSONDecodeError, KeyError) as e:
            note = [f"bad output ({e}): {run.stdout[:80]!r}"]
        failed += not ok
        print(f"| {name} | {'yes' if ok else 'NO'} | {note[0]} |")
    proxy.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
