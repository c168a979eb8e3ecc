#!/usr/bin/env bash
# Exports the golden `small` and `tiny224` checkpoints (tests/golden, README there) as float32 and
# float64 contract graphs for the C# tests:
#   OUTDIR/{small,tiny224}_{f32,f64}.onnx, .gradient.onnx and .forward.onnx, and the head-reduced
#   set of `small` (--reduce-heads): OUTDIR/small_{f32,f64}_reduced{,.gradient,.forward}.onnx
# Usage: tools/export_onnx/make_test_models.sh OUTDIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
golden="$repo/tests/golden"
PY="${PYTHON:-/usr/bin/python3}"
out="$1"
mkdir -p "$out"

export_model() {  # name dtype extra-args...
  local name="$1" dtype="$2"
  shift 2
  "$PY" "$here/export.py" --checkpoint "$golden/$name/model.pth" --labels "$golden/$name/labels.txt" \
    --out "$out/${name}_${dtype/float/f}${SUFFIX:-}.onnx" --dtype "$dtype" --crop-pct 1.0 --skip-timm-check "$@" >/dev/null
}

# Facts the weights do not determine, as the golden sets were made (tests/golden/README.md).
facts="--global-pool token --layernorm-eps 1e-6 --act gelu --interpolation bicubic"
for dtype in float32 float64; do
  export_model small "$dtype" --num-heads 4 --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 --arch golden_small $facts &
  export_model tiny224 "$dtype" --num-heads 3 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --arch golden_tiny224 $facts &
  wait -n && wait -n
done
small_facts="--num-heads 4 --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 --arch golden_small $facts --reduce-heads"
SUFFIX=_reduced export_model small float32 $small_facts &
SUFFIX=_reduced export_model small float64 $small_facts &
wait -n && wait -n
for stem in small_f32 small_f64 tiny224_f32 tiny224_f64 small_f32_reduced small_f64_reduced; do
  for graph in "" .gradient .forward; do
    test -s "$out/$stem$graph.onnx" || { echo "missing $out/$stem$graph.onnx" >&2; exit 1; }
  done
done
echo "exported golden test models to $out"
