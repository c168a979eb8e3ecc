#!/usr/bin/env bash
# Drives the Dermxai service with h2load (Debian's nghttp2-client), an HTTP/2 load generator that
# knows nothing about gRPC: it POSTs one gRPC-framed request body (5-byte prefix + protobuf bytes,
# made by `dermxai payload --framed`) with the gRPC headers, over C connections, one stream each.
#
#   bench/h2load/run.sh --image FILE [--rpc classify|explain] [--server http://127.0.0.1:5000]
#                       [--concurrency "1 4 16"] [--duration 10] [--warmup 2] [--out DIR]
#
# h2load sees HTTP statuses only, not grpc-status (a trailer), so the script first sends the same
# body once with nghttp and requires grpc-status 0, and reports response bytes per request (an
# error reply is trailers-only: 0 data bytes). Latency percentiles come from h2load's --log-file,
# with ghz's nearest-rank rule. Needs: apt-get install -y nghttp2-client.
set -euo pipefail
source "$(dirname "$0")/common.sh"
parse_options "$@"
command -v h2load >/dev/null || { echo "h2load not found: apt-get install -y nghttp2-client" >&2; exit 2; }
method=$([ "$rpc" = classify ] && echo Classify || echo Explain)
url="$server/dermxai.v1.DermxaiService/$method"

body="$out/$rpc.framed.bin"
cli payload --rpc "$rpc" --image "$image" --out "$body" --framed >/dev/null
echo "request body: $body ($(stat -c %s "$body") bytes), POST $url"

# One call with nghttp, to see the grpc-status trailer that h2load cannot.
status=$(nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' -d "$body" "$url" 2>&1 \
  | grep -aoE 'grpc-status: [0-9]+' | head -n1 || true)
[ "$status" = "grpc-status: 0" ] || { echo "the probe call failed: '${status:-no grpc-status}'" >&2; exit 1; }
echo "probe: $status"

printf '\n%-12s %9s %9s %10s %10s %10s %10s %12s\n' concurrency requests "req/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "resp B/req"
for c in $levels; do
  log="$out/h2load.c$c.log"
  h2load -D "$duration" --warm-up-time "$warmup" -c "$c" -m 1 -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$body" --log-file="$log" "$url" > "$out/h2load.c$c.txt"
  rps=$(grep -oE 'finished in [^,]+, [0-9.]+ req/s' "$out/h2load.c$c.txt" | grep -oE '[0-9.]+ req/s' | cut -d' ' -f1)
  data=$(grep -oE '\([0-9]+\) data' "$out/h2load.c$c.txt" | grep -oE '[0-9]+' | head -n1)
  done_=$(grep -oE '[0-9]+ succeeded' "$out/h2load.c$c.txt" | cut -d' ' -f1)
  # Nearest rank (ghz): the value at index ceil(p/100 * n) - 1 of the sorted latencies (µs in the log).
  stats=$(awk -F'\t' '$2 == 200 { print $3 }' "$log" | sort -n | awk '
    { v[NR] = $1 }
    function rank(p,   r, i) { r = p / 100 * NR; i = int(r); if (i < r) i++; if (i < 1) i = 1; return v[i] / 1000 }
    END { if (NR == 0) { print "0 0 0 0 0"; exit } printf "%d %.2f %.2f %.2f %.2f", NR, rank(50), rank(90), rank(99), v[NR] / 1000 }')
  read -r n p50 p90 p99 max <<<"$stats"
  per=$(( ${done_:-0} > 0 ? ${data:-0} / ${done_:-1} : 0 ))
  printf '%-12s %9s %9s %10s %10s %10s %10s %12s\n' "$c" "$n" "$rps" "$p50" "$p90" "$p99" "$max" "$per"
done
echo
echo "raw h2load output and per-request logs: $out"
