#!/usr/bin/env bash
# Saturation soak: the real server (Release build) under the CLI's closed-loop `bench` for DURATION
# seconds, its resident memory (VmRSS from /proc) sampled every SAMPLE_S seconds; then a graceful
# shutdown (SIGTERM) in the middle of a second short load. Loopback only; stops by itself.
#
#   bash bench/soak/run.sh                      # 10 minutes, concurrency 32, queue 8
#   DURATION=60 CONCURRENCY=8 bash bench/soak/run.sh
#
# The queue is kept small on purpose: saturation must show up as immediate RESOURCE_EXHAUSTED
# refusals, never as growing latency or memory. Results: $OUT/summary.txt (and rss.csv, bench.json,
# shutdown.json, server.log).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

DURATION=${DURATION:-600}
CONCURRENCY=${CONCURRENCY:-32}
QUEUE=${QUEUE:-8}
RPC=${RPC:-explain}
SAMPLE_S=${SAMPLE_S:-5}
SHUTDOWN_LOAD_S=${SHUTDOWN_LOAD_S:-20}
if [ -z "${MODEL:-}" ]; then
  MODEL=models/default/model.onnx
  [ -f "$MODEL" ] || MODEL=tests/.generated/models/small_f32.onnx
fi
IMAGE=${IMAGE:-samples/images/sample_000003.jpg}
OUT=${OUT:-$(mktemp -d -t dermxai-soak.XXXXXX)}
mkdir -p "$OUT"
[ -f "$MODEL" ] || { echo "No model at $MODEL (run ./test.sh to export the test models, or set MODEL=...)"; exit 2; }
[ -f "$IMAGE" ] || { echo "No image at $IMAGE (set IMAGE=...)"; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== building server and CLI (Release)"
dotnet build src/Server/Dermxai.Server.csproj -c Release -v q -nologo >/dev/null
dotnet build src/Client/Dermxai.Client.csproj -c Release -v q -nologo >/dev/null
SERVER_DLL=$REPO/src/Server/bin/Release/net10.0/dermxai-server.dll
CLI_DLL=$REPO/src/Client/bin/Release/net10.0/dermxai.dll

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
cli() { dotnet "$CLI_DLL" "$@"; }

echo "== starting the server on $URL (model $MODEL, max queue $QUEUE)"
dotnet "$SERVER_DLL" --model "$REPO/$MODEL" --urls "$URL" --metrics-url "" --device cpu \
  --max-queue-size "$QUEUE" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  kill -0 "$SERVER_PID" 2>/dev/null && kill -TERM "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  cli health --server "$URL" --retries 0 --deadline 2 >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:"; tail -20 "$OUT/server.log"; exit 1; }
  sleep 1
done
cli health --server "$URL" --retries 0 >/dev/null

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0; }
START_EPOCH=$(date +%s)
echo "seconds,rss_kb,phase" >"$OUT/rss.csv"
echo "0,$(rss_kb),ready" >>"$OUT/rss.csv"
( while kill -0 "$SERVER_PID" 2>/dev/null; do
    echo "$(( $(date +%s) - START_EPOCH )),$(rss_kb),load" >>"$OUT/rss.csv"; sleep "$SAMPLE_S"
  done ) &
SAMPLER_PID=$!

echo "== soak: $RPC at concurrency $CONCURRENCY for ${DURATION}s (after a 10s warm-up)"
set +e
cli bench --server "$URL" --image "$IMAGE" --rpc "$RPC" --concurrency "$CONCURRENCY" \
  --duration "${DURATION}s" --warmup 10s --retries 0 --deadline 30 --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
BENCH_STATUS=$?
set -e
echo "$(( $(date +%s) - START_EPOCH )),$(rss_kb),end" >>"$OUT/rss.csv"

echo "== graceful shutdown under load: SIGTERM after $(( SHUTDOWN_LOAD_S / 2 ))s of a ${SHUTDOWN_LOAD_S}s load"
set +e
cli bench --server "$URL" --image "$IMAGE" --rpc "$RPC" --concurrency "$CONCURRENCY" \
  --duration "${SHUTDOWN_LOAD_S}s" --warmup 0s --retries 0 --deadline 30 --json "$OUT/shutdown.json" >"$OUT/shutdown.txt" 2>&1 &
LOAD_PID=$!
sleep $(( SHUTDOWN_LOAD_S / 2 ))
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; SERVER_EXIT=$?
wait "$LOAD_PID"
set -e
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""

/usr/bin/python3 bench/soak/summarize.py "$OUT" "$SERVER_EXIT" | tee "$OUT/summary.txt"
