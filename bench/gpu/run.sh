#!/usr/bin/env bash
# The GPU benchmark, end to end, on one Linux x86-64 machine (NVIDIA GPU with CUDA 13 + cuDNN 9 from
# the python3 nvidia wheels, python3 with torch, no .NET needed; or dry-run on CPU with --device cpu):
#   1. exports a vit_base_patch16_224-shaped model (41 classes, random weights) with tools/export_onnx
#   2. starts the self-contained server (bench/gpu/stage.sh builds it) on --device, and a CPU server
#   3. compares the device's maps with the CPU EP's on a few images
#   4. runs the CLI's bench at each concurrency for each method
#   5. writes results.json and results.md into --out
# Usage: bench/gpu/run.sh [--device cuda|cpu] [--model vitb|default|PATH.onnx] [--concurrency "1 8 64"]
#        [--methods "transformer_attribution generic_attention"] [--duration 20s] [--warmup 5s]
#        [--max-batch 32] [--out DIR] [--parts DIR] [--parity-images N]
# --parts DIR: where stage.sh's parts are (default .build/gpu/parts; on the GPU machine, wherever the
# parts were copied one by one, e.g. dermxai-parts/).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

device=cuda model=vitb concurrency="1 8 64" methods="transformer_attribution generic_attention"
duration=20s warmup=5s max_batch=32 out=out/gpu-bench parts=.build/gpu/parts parity_images=4
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2;; --model) model=$2; shift 2;;
    --concurrency) concurrency=$2; shift 2;; --methods) methods=$2; shift 2;;
    --duration) duration=$2; shift 2;; --warmup) warmup=$2; shift 2;;
    --max-batch) max_batch=$2; shift 2;; --out) out=$2; shift 2;;
    --parts) parts=$2; shift 2;; --parity-images) parity_images=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
mkdir -p "$out"; out=$(cd "$out" && pwd)
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# --- binaries: self-contained publish if staged (unpacked from the parts if need be), else the
# framework-dependent Release build
if [ ! -x .build/gpu/server/dermxai-server ] && ls "$parts"/apps.tar.xz.part* >/dev/null 2>&1; then
  mkdir -p .build/gpu && cat "$parts"/apps.tar.xz.part* | xz -d | tar -C .build/gpu -xf -
fi
if [ -x .build/gpu/server/dermxai-server ]; then
  server_cmd=("$repo/.build/gpu/server/dermxai-server"); cli_cmd=("$repo/.build/gpu/client/dermxai")
  server_dir=$repo/.build/gpu/server
else
  dotnet build Dermxai.sln -c Release -v q -nologo >/dev/null
  server_cmd=(dotnet "$repo/src/Server/bin/Release/net10.0/dermxai-server.dll")
  cli_cmd=(dotnet "$repo/src/Client/bin/Release/net10.0/dermxai.dll")
  server_dir=$repo/src/Server/bin/Release/net10.0
fi

if [ "$device" = cuda ]; then
  if [ ! -f "$server_dir/libonnxruntime_providers_cuda.so" ]; then
    cuda_parts=$(ls "$parts"/libonnxruntime_providers_cuda.so.xz.part* 2>/dev/null || true)
    [ -n "$cuda_parts" ] || { echo "no CUDA provider: run bench/gpu/stage.sh and bring $parts" >&2; exit 1; }
    cat $cuda_parts | xz -d > "$server_dir/libonnxruntime_providers_cuda.so"
  fi
  nvidia_libs=$(python3 -c 'import nvidia, os, glob; roots = list(nvidia.__path__); print(":".join(d for r in roots for d in glob.glob(os.path.join(r, "*", "lib")) + glob.glob(os.path.join(r, "cu*", "lib"))))' 2>/dev/null || true)
  export LD_LIBRARY_PATH="$server_dir:${nvidia_libs}:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/card.txt" || true
else
  echo "cpu ($(nproc) cores): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" > "$out/card.txt"
fi

# --- the model
case "$model" in
  vitb)
    python3 bench/gpu/random_checkpoint.py --arch vit_base_patch16_224 --num-classes 41 --out "$work/vitb41.pth"
    t0=$(date +%s.%N)
    python3 tools/export_onnx/export.py --checkpoint "$work/vitb41.pth" --out "$work/vitb41.onnx"
    echo "export_seconds $(echo "$(date +%s.%N) - $t0" | bc)" > "$out/export.txt"
    model_path=$work/vitb41.onnx;;
  default) model_path=$repo/models/default/model.onnx;;
  *) model_path=$model;;
esac

# --- servers: the device under test, and a CPU one for map parity
start_server() { # device port log
  "${server_cmd[@]}" --model "$model_path" --device "$1" --urls "http://127.0.0.1:$2" \
    --metrics-url "http://127.0.0.1:$(( $2 + 1000 ))" --max-batch-size "$max_batch" > "$3" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    "${cli_cmd[@]}" health --server "http://127.0.0.1:$2" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  echo "server ($1) did not become healthy; log:" >&2; cat "$3" >&2; exit 1
}
start_server "$device" 5100 "$out/server-$device.log"
server=http://127.0.0.1:5100
"${cli_cmd[@]}" info --server "$server" > "$out/info.txt"

images=$(ls samples/images/* | head -n "$parity_images")
mkdir -p "$work/parity"; cp $images "$work/parity/"
"${cli_cmd[@]}" explain "$work/parity" --server "$server" --method "${methods// /,}" --outputs grid \
  --json "$out/maps-$device.json" > /dev/null
if [ "$device" != cpu ]; then
  start_server cpu 5101 "$out/server-cpu.log"
  "${cli_cmd[@]}" explain "$work/parity" --server http://127.0.0.1:5101 --method "${methods// /,}" \
    --outputs grid --json "$out/maps-cpu.json" > /dev/null
fi

# --- load
image=$(echo "$images" | head -n 1)
for method in $methods; do
  for c in $concurrency; do
    echo "== $method, concurrency $c"
    "${cli_cmd[@]}" bench --server "$server" --rpc explain --method "$method" --image "$image" \
      --concurrency "$c" --duration "$duration" --warmup "$warmup" \
      --json "$out/bench-$method-c$c.json" || true
  done
done

python3 bench/gpu/summarize.py --out "$out" --device "$device" --model "$model"
cat "$out/results.md"
