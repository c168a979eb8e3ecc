#!/usr/bin/env bash
# Sets up what the tests need on a fresh Debian machine, then runs every suite — the tools' pytest
# suites, each C# NUnit project and the Kubernetes manifest checks — even when an earlier one fails, and closes with one line
# `N passed, N failed, N skipped` over all of them. Exit status 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DEBIAN_FRONTEND=noninteractive
PY=/usr/bin/python3
PYTHON_PACKAGES="python3 python3-torch python3-onnx python3-pytest python3-numpy python3-pil libopenblas0-pthread"
NODE_PACKAGES="nodejs npm"   # buf lint of the proto, the Kubernetes manifest checks
BROWSER_PACKAGES="chromium"  # the viewer's browser test (tests/Viewer.Tests)

echo "== prerequisites"
if ! command -v dotnet >/dev/null; then
  echo "The .NET 10 SDK is missing: install it (see README.md, Requirements) and run ./test.sh again." >&2
  exit 2
fi
missing=""
if ! "$PY" -c 'import torch, onnx, pytest, numpy, PIL' 2>/dev/null \
   || ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
  missing=" $PYTHON_PACKAGES"
fi
command -v node >/dev/null && command -v npm >/dev/null || missing="$missing $NODE_PACKAGES"
[ -x /usr/bin/chromium ] || missing="$missing $BROWSER_PACKAGES"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Debian packages are missing; install them as root, then run ./test.sh again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 2
  fi
  echo "   installing:$missing"
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null \
    || { echo "apt-get could not install:$missing" >&2; exit 2; }
fi
"$PY" -c 'import platform, torch, onnx; print("   python", platform.python_version(), "torch", torch.__version__, "onnx", onnx.__version__)'
dotnet --version | sed 's/^/   dotnet SDK /'

results=tests/.generated/results
rm -rf "$results" && mkdir -p "$results"
suites=()
status=0

echo "== pytest (tools)"
"$PY" -m pytest -q -rs tests/python --junitxml="$results/pytest.xml" || status=1
suites+=("pytest=pytest.xml")

echo "== exporting the golden test models"
bash tools/export_onnx/make_test_models.sh tests/.generated/models || status=1

echo "== dotnet build"
if dotnet build Dermxai.sln -c Release -v q -nologo; then
  for project in tests/*/*.Tests.csproj; do
    name=$(basename "$project" .csproj)
    echo "== $name"
    dotnet test "$project" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
    suites+=("$name=$name.trx")
  done
else
  echo "the build failed: no C# suite ran"
  status=1
  suites+=("dotnet-build=build-failed")
fi

echo "== Kubernetes manifests (rendered and validated offline)"
deploy/kubernetes/check.sh 2>&1 | tee "$results/kubernetes.txt" || status=1
suites+=("kubernetes=kubernetes.txt")

"$PY" tests/tools/summarize.py "$results" "${suites[@]}" || status=1
exit "$status"
