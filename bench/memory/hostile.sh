#!/usr/bin/env bash
# The standing hostile suite (tests/Hardening.Tests, HostileSuiteTests) against the real server
# (Release build, CPU, its own process), so that the memory it reports is the server's alone:
# RSS when ready, after the warm-up, the peak during the suite and after it, the CPU after a burst of
# timed-out calls, and the statuses table. Loopback only; stops the server when done.
#
#   bash bench/memory/hostile.sh                                   # models/default
#   MODEL=tests/.generated/models/small_f32.onnx bash bench/memory/hostile.sh
#   DOTNET_GCConserveMemory=0 bash bench/memory/hostile.sh         # runtime settings reach the server
#   SERVER_DLL=/other/build/dermxai-server.dll bash bench/memory/hostile.sh   # another build of the server
#   SERVER_ARGS="--max-batch-size 2" bash bench/memory/hostile.sh               # extra server options
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
MODEL=${MODEL:-models/default/model.onnx}
OUT=${OUT:-$(mktemp -d -t dermxai-hostile.XXXXXX)}
mkdir -p "$OUT"
[ -f "$MODEL" ] || { echo "No model at $MODEL (set MODEL=...)"; exit 2; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
MODEL=$(realpath "$MODEL")
if [ -z "${SERVER_DLL:-}" ]; then
  dotnet build src/Server/Dermxai.Server.csproj -c Release -v q -nologo >/dev/null
  SERVER_DLL=$REPO/src/Server/bin/Release/net10.0/dermxai-server.dll
fi
dotnet build tests/Hardening.Tests -c Release -v q -nologo >/dev/null
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

dotnet "$SERVER_DLL" --model "$MODEL" --urls "$URL" \
  --metrics-url "" --device cpu ${SERVER_ARGS:-} >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true' EXIT
until grep -q "Loaded model" "$OUT/server.log"; do
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:"; tail -20 "$OUT/server.log"; exit 1; }
  sleep 1
done
sleep 2
echo "server RSS when ready: $(awk '/^VmRSS:/ {printf "%d MiB", $2/1024}' /proc/$SERVER_PID/status) (model $MODEL)" | tee "$OUT/ready.txt"
DERMXAI_HOSTILE_URL=$URL DERMXAI_HOSTILE_PID=$SERVER_PID dotnet test tests/Hardening.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~HostileSuite" --logger "console;verbosity=detailed" >"$OUT/test.log" 2>&1 || true
sed -n '/Hostile suite (seed/,/RSS MiB/{p;/RSS MiB/q}' "$OUT/test.log"
grep -E "^ *(Passed|Failed) Every_hostile" "$OUT/test.log" | head -1
echo "server peak RSS (VmHWM) over its life: $(awk '/^VmHWM:/ {printf "%d MiB", $2/1024}' /proc/$SERVER_PID/status)"
echo "logs: $OUT"
