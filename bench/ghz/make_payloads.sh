#!/usr/bin/env bash
# Makes the ghz inputs in this folder from one image:
#   classify.json, explain.json  ghz configs, the image base64-encoded in the `bytes` field image.encoded
#   classify.bin,  explain.bin   the same requests as serialized protobuf messages, for ghz -B
#
#   bench/ghz/make_payloads.sh [IMAGE] [HOST:PORT]   (defaults: samples/images/sample_000003.jpg, 127.0.0.1:5000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
image=${1:-$repo/samples/images/sample_000003.jpg}
host=${2:-127.0.0.1:5000}

cli() {
  local built="$repo/src/Client/bin/Release/net10.0/dermxai.dll"
  if [ -f "$built" ]; then dotnet "$built" "$@"; else dotnet run --project "$repo/src/Client" -c Release -- "$@"; fi
}

cli payload --rpc classify --image "$image" --top-k 5 --out "$here/classify.bin"
cli payload --rpc explain --image "$image" --top-k 3 --method transformer_attribution --target predicted --out "$here/explain.bin"

encoded=$(base64 -w0 "$image")
config() { # call, data (JSON without the image), concurrency
  cat <<JSON
{
  "call": "dermxai.v1.DermxaiService.$1",
  "host": "$host",
  "insecure": true,
  "connections": 1,
  "concurrency": $3,
  "duration": "30s",
  "timeout": "20s",
  "metadata": { "x-request-id": "ghz-$1" },
  "data": { "image": { "encoded": "$encoded" }, $2 }
}
JSON
}
config Classify '"top_k": 5' 4 > "$here/classify.json"
config Explain '"top_k": 3, "methods": ["transformer_attribution"], "targets": [{ "predicted": {} }]' 2 > "$here/explain.json"
echo "wrote $here/{classify,explain}.{json,bin} from $image"
