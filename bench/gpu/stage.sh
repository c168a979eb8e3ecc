#!/usr/bin/env bash
# Builds here (no GPU needed) what bench/gpu/run.sh needs on a GPU machine without .NET:
#   .build/gpu/server/   self-contained linux-x64 publish of the server (dermxai-server)
#   .build/gpu/client/   self-contained linux-x64 publish of the CLI (dermxai)
#   .build/gpu/parts/    both apps as apps.tar.xz and ORT's CUDA provider (284 MB) as
#                        libonnxruntime_providers_cuda.so.xz, each split into 25 MiB parts, so that each
#                        part travels to the GPU machine on its own (run.sh --parts DIR reassembles them)
# The publishes leave out the CUDA provider (it travels in parts) and ORT's Windows binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/gpu
part_size=${PART_SIZE:-25M}
rm -rf "$out"; mkdir -p "$out/parts"

publish() { # project, folder
  # Not trimmed: trimming broke System.Text.Json over our records and gRPC's netstandard references
  # at run time; the xz-compressed parts travel anyway, so the untrimmed size costs one more part.
  dotnet publish "$1" -c Release -r linux-x64 --self-contained -o "$out/$2" -nologo -v q
  rm -f "$out/$2"/libonnxruntime_providers_cuda.so "$out/$2"/libonnxruntime_providers_tensorrt.so \
        "$out/$2"/*onnxruntime*.dll
}
publish src/Server/Dermxai.Server.csproj server
publish src/Client/Dermxai.Client.csproj client

ort_version=$(grep -oP 'Microsoft.ML.OnnxRuntime.Gpu" Version="\K[^"]+' Directory.Packages.props)
cuda_lib="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.onnxruntime.gpu.linux/$ort_version/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so"
[ -f "$cuda_lib" ] || { echo "missing $cuda_lib (run dotnet restore first)"; exit 1; }
xz -6 -T2 -c "$cuda_lib" | split -b "$part_size" -d - "$out/parts/libonnxruntime_providers_cuda.so.xz.part"
tar -C "$out" -cf - server client | xz -6 -T2 | split -b "$part_size" -d - "$out/parts/apps.tar.xz.part"
(cd "$out/parts" && sha256sum -- * > SHA256SUMS)
du -sh "$out"/*
ls -la "$out/parts"
