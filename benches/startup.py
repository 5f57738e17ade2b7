#!/usr/bin/env python3
"""Start-up time and idle memory of the full-screen session, as the user sees them.

Runs the release `cove` in a fresh tmux pane (120x40) with an isolated HOME and XDG
directories, against a loopback fake server (answers GET /v1/models) or, with
--unreachable, a closed 127.0.0.1 port: the first screen must wait for neither. Each run
measures the time from the moment the process is started (the pane's shell is released
through a FIFO, so tmux's own start is not counted) until `tmux capture-pane` shows the
first screen (the composer's placeholder and the status bar), polled every ~2 ms; then
the process's VmRSS 3 s after the start. Prints the medians of --runs runs.

usage: benches/startup.py [--runs 10] [--unreachable] [--max-ms MS] [--max-mib MIB]
(with --max-ms / --max-mib it exits 1 when a median is above the limit)
"""
import argparse, http.server, json, os, shutil, socket, socketserver, statistics, subprocess
import sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=10)
ap.add_argument("--unreachable", action="store_true", help="point cove at a closed port")
ap.add_argument("--idle-secs", type=float, default=3.0)
ap.add_argument("--max-ms", type=float)
ap.add_argument("--max-mib", type=float)
ap.add_argument("--cove", help="the binary to measure (default: target/release/cove)")
args = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cove = args.cove or os.path.join(root, "target", "release", "cove")
if not os.path.exists(cove):
    sys.exit("build the release binary first: cargo build --release")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        b = json.dumps({"data": [{"id": "fake-model", "max_model_len": 32768}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def log_message(self, *a):
        pass


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = None
if args.unreachable:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
else:
    srv = S(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
url = f"http://127.0.0.1:{port}/v1"


SOCKET = f"cove-startup-{os.getpid()}"  # a tmux server of its own


def tmux(*a, **kw):
    return subprocess.run(["tmux", "-L", SOCKET, *a], capture_output=True, text=True, **kw)


def rss_kib(p):
    try:
        with open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def first_screen(text):
    # the composer's placeholder and the status bar's key hint
    return "Ask anything" in text and "F1 help" in text


def one_run(i):
    home = tempfile.mkdtemp(prefix="cove-start-")
    ws = os.path.join(home, "ws")
    os.makedirs(ws)
    fifo = os.path.join(home, "go")
    os.mkfifo(fifo)
    session = f"start{os.getpid()}_{i}"
    env = (f"HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data "
           f"XDG_STATE_HOME={home}/state XDG_CACHE_HOME={home}/cache COVE_BASE_URL={url}")
    # the pane's shell waits on the FIFO, then becomes cove (same pid)
    cmd = f"cd {ws} && cat {fifo} >/dev/null && exec env {env} {cove}"
    r = tmux("new", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
    if r.returncode != 0:
        sys.exit(f"tmux new failed: {r.stderr.strip()}")
    try:
        pid = int(tmux("display", "-p", "-t", session, "#{pane_pid}").stdout.strip())
        time.sleep(0.2)  # let the pane settle before the clock starts
        t0 = time.perf_counter()
        with open(fifo, "w") as f:
            f.write("go\n")
        shown = None
        while time.perf_counter() - t0 < 10:
            if first_screen(tmux("capture-pane", "-p", "-t", session).stdout):
                shown = (time.perf_counter() - t0) * 1000
                break
            time.sleep(0.002)
        if shown is None:
            print(tmux("capture-pane", "-p", "-t", session).stdout, file=sys.stderr)
            sys.exit("cove did not show its first screen within 10 s")
        time.sleep(max(0.0, args.idle_secs - (time.perf_counter() - t0)))
        rss = rss_kib(pid)
        return shown, rss
    finally:
        tmux("kill-session", "-t", session)
        shutil.rmtree(home, ignore_errors=True)


# a session that outlives the runs, so the server does not exit (and restart) between them
tmux("new", "-d", "-s", "keep", "-x", "120", "-y", "40", "sleep 3600")
try:
    times, rsss = [], []
    for i in range(args.runs):
        ms, rss = one_run(i)
        times.append(ms)
        if rss:
            rsss.append(rss / 1024)
finally:
    tmux("kill-server")
    if srv:
        srv.shutdown()

t, r = statistics.median(times), statistics.median(rsss) if rsss else float("nan")
server = "an unreachable 127.0.0.1 port" if args.unreachable else "a loopback fake server"
print(f"cove start-up against {server} (tmux 120x40, {args.runs} runs): first screen "
      f"{t:.1f} ms median (min {min(times):.1f}, max {max(times):.1f}); idle RSS at "
      f"{args.idle_secs:g} s {r:.1f} MiB median")
bad = []
if args.max_ms is not None and t > args.max_ms:
    bad.append(f"first screen {t:.1f} ms > {args.max_ms:g} ms")
if args.max_mib is not None and r > args.max_mib:
    bad.append(f"idle RSS {r:.1f} MiB > {args.max_mib:g} MiB")
if bad:
    print("REGRESSION: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
