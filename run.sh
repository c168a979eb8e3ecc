#!/usr/bin/env bash
# The main job: build everything, start the Dermxai service on the bundled default model, explain
# every bundled sample image into PNG overlays and one index.html page, then stop the service.
#   ./run.sh [IMAGES_DIR] [OUT_DIR]      (defaults: samples/images, out/demo)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
images=${1:-samples/images}
out=${2:-out/demo}
port=${DERMXAI_PORT:-5000}
server_url="http://127.0.0.1:$port"

echo "== building (Release)"
t0=$(date +%s)
dotnet build Dermxai.sln -c Release -v q -nologo
bin_server=src/Server/bin/Release/net10.0/dermxai-server.dll
bin_cli=src/Client/bin/Release/net10.0/dermxai.dll
echo "   built in $(( $(date +%s) - t0 )) s"

echo "== starting the service on $server_url (model: models/default/model.onnx)"
mkdir -p "$out"
dotnet "$bin_server" --model models/default/model.onnx --urls "$server_url" > "$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  if dotnet "$bin_cli" health --server "$server_url" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "the service stopped; its log:"; cat "$out/server.log"; exit 1; fi
  sleep 1
done
dotnet "$bin_cli" health --server "$server_url"

echo "== explaining $images"
t1=$(date +%s)
dotnet "$bin_cli" explain "$images" --server "$server_url" --out "$out" \
  --outputs overlay,heatmap,grid --json "$out/results.json"
echo "   explained in $(( $(date +%s) - t1 )) s"
echo
echo "Overlays: $out/*.overlay.png"
echo "Results:  $out/results.json"
echo "Page:     $out/index.html"
