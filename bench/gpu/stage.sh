#!/usr/bin/env bash
# Builds here (no GPU needed) what bench/gpu/run.sh needs on a GPU machine without .NET:
#   .build/gpu/server/   self-contained linux-x64 publish of the server (dermxai-server)
#   .build/gpu/client/   self-contained linux-x64 publish of the CLI (dermxai)
#   .build/gpu/cuda/     ORT's CUDA provider library, xz-compressed and split into parts < 60 MiB,
#                        so that each part travels to the GPU machine on its own (see run.sh --parts)
# The server and client publishes exclude the CUDA provider (it travels in parts instead).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build/gpu
part_size=${PART_SIZE:-25M}
rm -rf "$out"; mkdir -p "$out/cuda"

publish() { # project, folder
  dotnet publish "$1" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true \
    -p:TrimmerSingleWarn=true -o "$out/$2" -nologo -v q
  rm -f "$out/$2"/libonnxruntime_providers_cuda.so "$out/$2"/libonnxruntime_providers_tensorrt.so
}
publish src/Server/Dermxai.Server.csproj server
publish src/Client/Dermxai.Client.csproj client

ort_version=$(grep -oP 'Microsoft.ML.OnnxRuntime.Gpu" Version="\K[^"]+' Directory.Packages.props)
cuda_lib="${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.onnxruntime.gpu.linux/$ort_version/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so"
[ -f "$cuda_lib" ] || { echo "missing $cuda_lib (run dotnet restore first)"; exit 1; }
xz -6 -T2 -c "$cuda_lib" | split -b "$part_size" -d - "$out/cuda/libonnxruntime_providers_cuda.so.xz.part"
sha256sum "$cuda_lib" | awk '{print $1}' > "$out/cuda/libonnxruntime_providers_cuda.so.sha256"
du -sh "$out"/*
ls -la "$out/cuda"
