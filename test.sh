#!/usr/bin/env bash
# Runs every test: the export tool's and synthetic set's pytest suites, then the C# NUnit suites
# (which need the golden test models exported first, into tests/.generated/models, git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "== pytest (tools)"
set +e
"$PY" -m pytest -q tests/python
py_status=$?
set -e
[ "$py_status" -eq 0 ] || [ "$py_status" -eq 5 ] || { echo "pytest failed ($py_status)"; exit "$py_status"; }

echo "== exporting the golden test models"
bash tools/export_onnx/make_test_models.sh tests/.generated/models

echo "== dotnet test"
dotnet build Dermxai.sln -c Release -v q -nologo
log=$(mktemp)
set +e
dotnet test Dermxai.sln -c Release --no-build -nologo 2>&1 | tee "$log"
dn_status=${PIPESTATUS[0]}
set -e
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "dotnet: $passed passed, $failed failed, $skipped skipped"
exit "$dn_status"
