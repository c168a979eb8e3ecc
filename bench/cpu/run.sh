#!/usr/bin/env bash
# Side by side on this CPU: the published reference code (torch eager) and the Dermxai service
# (through gRPC, one call at a time) on the same ViT-B/16-shaped weights, image and thread count.
#   1. writes a random vit_base_patch16_224 checkpoint (41 classes) and exports it at each precision
#   2. times the reference where a checkout is available (never vendored: see README.md)
#   3. starts the server on each export and times every method with `dermxai bench`
#   4. prints the table and writes results.md and results.json into --out
# Usage: bench/cpu/run.sh [--threads 2] [--runs 5] [--precisions "float64 mixed float32"]
#        [--methods "transformer_attribution generic_attention …"] [--image FILE] [--out DIR]
#        [--reference DIR] [--reference-mm DIR] [--no-reference] [--reference-methods "…"] [--keep-models]
# Environment: DERMXAI_REFERENCE, DERMXAI_REFERENCE_MM (checkouts, as --reference, --reference-mm).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
PY=${PYTHON:-/usr/bin/python3}

threads=2 runs=5 precisions="float64 mixed float32" out=out/bench-cpu keep_models=0
methods="transformer_attribution generic_attention attention_gradcam raw_attention attention_rollout classify transformer_attribution_top3"
image=samples/images/sample_000003.jpg
reference=${DERMXAI_REFERENCE:-} reference_mm=${DERMXAI_REFERENCE_MM:-} no_reference=0 reference_methods=
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2;; --runs) runs=$2; shift 2;;
    --precisions) precisions=$2; shift 2;; --methods) methods=$2; shift 2;;
    --image) image=$2; shift 2;; --out) out=$2; shift 2;;
    --reference) reference=$2; shift 2;; --reference-mm) reference_mm=$2; shift 2;;
    --no-reference) no_reference=1; shift;; --keep-models) keep_models=1; shift;;
    --reference-methods) reference_methods=$2; shift 2;;
    -h|--help) sed -n 2,11p "$0"; exit 0;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
mkdir -p "$out/raw" "$out/models"; out=$(cd "$out" && pwd)
rm -f "$out"/raw/*
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
started=$(date +%s)
echo "load_start $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/raw/machine.txt"

server_pid=
stop_server() { [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=; }; }
trap stop_server EXIT

# --- binaries
echo "== building server and client (Release)"
dotnet build src/Server/Dermxai.Server.csproj -c Release -v q -nologo >/dev/null
dotnet build src/Client/Dermxai.Client.csproj -c Release -v q -nologo >/dev/null
server_cmd=(dotnet "$repo/src/Server/bin/Release/net10.0/dermxai-server.dll")
cli_cmd=(dotnet "$repo/src/Client/bin/Release/net10.0/dermxai.dll")

# --- the checkpoint and its exports (float64: --dtype float64; mixed, float32: --precision in float32)
checkpoint=$out/models/vitb41.pth
if [ "$keep_models" = 0 ] || [ ! -f "$checkpoint" ]; then
  echo "== random vit_base_patch16_224 checkpoint, 41 classes"
  "$PY" bench/gpu/random_checkpoint.py --arch vit_base_patch16_224 --num-classes 41 --out "$checkpoint"
fi
for precision in $precisions; do
  case "$precision" in
    float64) flags=(--dtype float64);;
    mixed|float32) flags=(--dtype float32 --precision "$precision");;
    *) echo "unknown precision $precision" >&2; exit 2;;
  esac
  dir=$out/models/$precision
  if [ "$keep_models" = 0 ] || [ ! -f "$dir/vitb41.onnx" ]; then
    echo "== export, $precision"
    rm -rf "$dir"; mkdir -p "$dir"
    t0=$(date +%s.%N)
    "$PY" tools/export_onnx/export.py --checkpoint "$checkpoint" --arch vit_base_patch16_224 \
      --skip-timm-check "${flags[@]}" --out "$dir/vitb41.onnx"
    awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", t1 - t0 }' > "$dir/export_seconds.txt"
  fi
done

# --- the reference: a checkout given, else a shallow clone where the network allows
clone() { # url dir [paths…]: shallow, blobs fetched only for what is checked out
  local url=$1 dir=$2; shift 2
  [ -d "$dir/.git" ] && { echo "$dir"; return 0; }
  rm -rf "$dir"
  timeout 300 git clone -q --depth 1 --filter=blob:none --no-checkout "$url" "$dir" >&2 || return 1
  if [ $# -gt 0 ]; then git -C "$dir" checkout -q HEAD -- "$@" >&2 || return 1
  else git -C "$dir" checkout -q HEAD >&2 || return 1; fi
  echo "$dir"
}
if [ "$no_reference" = 0 ]; then
  [ -n "$reference" ] || reference=$(clone https://github.com/hila-chefer/Transformer-Explainability \
    "$out/reference/Transformer-Explainability" baselines/ViT modules) || reference=
  [ -n "$reference_mm" ] || reference_mm=$(clone https://github.com/hila-chefer/Transformer-MM-Explainability \
    "$out/reference/Transformer-MM-Explainability" Transformer_MM_explainability_ViT.ipynb) || reference_mm=
fi
if [ -n "$reference" ] && [ -d "$reference/baselines/ViT" ]; then
  echo "== reference (torch eager, $threads threads, $runs runs): $reference"
  for source in "$reference" "$reference_mm"; do
    [ -n "$source" ] || continue
    echo "$(basename "$source") $(git -C "$source" rev-parse HEAD 2>/dev/null || echo 'commit unknown')" >> "$out/raw/reference_sources.txt"
  done
  mm_args=(); [ -n "$reference_mm" ] && mm_args=(--reference-mm "$reference_mm")
  OMP_NUM_THREADS=$threads "$PY" bench/cpu/reference_timing.py --reference "$reference" "${mm_args[@]}" \
    --checkpoint "$checkpoint" --image "$image" --threads "$threads" --runs "$runs" \
    --methods "$(echo ${reference_methods:-$methods} | tr ' ' ',')" --out "$out/raw/reference.json"
else
  if [ "$no_reference" = 1 ]; then echo "== NO REFERENCE (--no-reference): reporting Dermxai's numbers alone"
  else
    echo "== NO REFERENCE: no checkout given (--reference DIR or DERMXAI_REFERENCE) and none could be cloned;"
    echo "   reporting Dermxai's numbers alone"
  fi
fi

# --- Dermxai: one server per export; per method one bench process, 1 warm-up call + --runs single calls
port=5300
for precision in $precisions; do
  log=$out/raw/server-$precision.log
  echo "== Dermxai $precision: starting the server ($threads intra-op threads)"
  "${server_cmd[@]}" --model "$out/models/$precision/vitb41.onnx" --device cpu --intra-op-threads "$threads" \
    --urls "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$((port + 1000))" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    "${cli_cmd[@]}" health --server "http://127.0.0.1:$port" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "server exited; log:" >&2; cat "$log" >&2; exit 1; }
    sleep 2
  done
  for method in $methods; do
    case "$method" in
      classify) call=(--rpc classify);;
      transformer_attribution_top3) call=(--rpc explain --method transformer_attribution --target top-k:3);;
      *) call=(--rpc explain --method "$method");;
    esac
    # one client process per method: its first call warms up the server and the client (JIT,
    # connection) and is not counted; then --runs calls, one at a time
    "${cli_cmd[@]}" bench --server "http://127.0.0.1:$port" "${call[@]}" --image "$image" \
      --concurrency 1 --warmup-requests 1 --requests "$runs" --deadline 900 \
      --json "$out/raw/dermxai-$precision-$method.json" >/dev/null 2>>"$out/raw/client.log" || true
    echo "   $method done"
  done
  stop_server
  port=$((port + 1))
done

echo "load_end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/raw/machine.txt"
echo "cpu $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >> "$out/raw/machine.txt"
echo "run_seconds $(( $(date +%s) - started ))" >> "$out/raw/machine.txt"
"$PY" bench/cpu/summarize.py --out "$out" --threads "$threads" --runs "$runs" \
  --precisions "$precisions" --methods "$methods"
cat "$out/results.md"
