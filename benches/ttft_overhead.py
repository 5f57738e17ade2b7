#!/usr/bin/env python3
"""Time cove adds to time-to-first-token over `curl -N`, against the same server.

Both clients are started as fresh processes and timed from spawn to the first byte of
answer text: for cove, the first byte on stdout; for curl, the first SSE line that
carries a non-empty content delta. Runs alternate so both see the same server state
(llama.cpp's prompt cache hits for both). Prints medians and the difference.

usage: benches/ttft_overhead.py BASE_URL [--cove PATH] [--runs N] [--max-ms MS]
  --max-ms: exit 1 when cove's median overhead exceeds MS (a regression check)
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

PROMPT = "Say hello."


def time_curl(base_url, model):
    body = json.dumps({
        "model": model, "stream": True, "max_tokens": 8,
        "messages": [{"role": "user", "content": PROMPT}],
    })
    start = time.perf_counter()
    p = subprocess.Popen(
        ["curl", "-sN", "-X", "POST", f"{base_url}/chat/completions",
         "-H", "Content-Type: application/json", "-d", body],
        stdout=subprocess.PIPE)
    first = None
    for line in p.stdout:
        if first is None and line.startswith(b"data: {"):
            try:
                delta = json.loads(line[6:])["choices"][0]["delta"]
            except (ValueError, KeyError, IndexError):
                continue
            if delta.get("content"):
                first = time.perf_counter() - start
    p.wait()
    return first


def time_cove(cove, base_url, model):
    start = time.perf_counter()
    p = subprocess.Popen(
        [cove, "ask", "--base-url", base_url, "--model", model, "--max-tokens", "8", PROMPT],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    byte = p.stdout.read(1)
    first = time.perf_counter() - start if byte else None
    p.stdout.read()
    p.wait()
    return first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--cove", default="target/release/cove")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--model", default="default")
    ap.add_argument("--max-ms", type=float, default=None)
    a = ap.parse_args()
    curl, cove = [], []
    for _ in range(3):  # warm-up: prompt cache, page cache
        time_curl(a.base_url, a.model)
        time_cove(a.cove, a.base_url, a.model)
    for _ in range(a.runs):
        c = time_curl(a.base_url, a.model)
        v = time_cove(a.cove, a.base_url, a.model)
        if c is not None and v is not None:
            curl.append(c * 1000)
            cove.append(v * 1000)
    if not curl:
        print("no run produced content", file=sys.stderr)
        return 2
    mc, mv = statistics.median(curl), statistics.median(cove)
    print(f"runs: {len(curl)}")
    print(f"curl -N  TTFT median {mc:.1f} ms (min {min(curl):.1f})")
    print(f"cove ask TTFT median {mv:.1f} ms (min {min(cove):.1f})")
    print(f"cove adds {mv - mc:+.1f} ms (median)")
    if a.max_ms is not None and mv - mc > a.max_ms:
        print(f"REGRESSION: overhead above {a.max_ms} ms", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
