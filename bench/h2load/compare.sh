#!/usr/bin/env bash
# The same closed-loop load from two independent clients, side by side: `dermxai bench` (.NET gRPC
# client, one HTTP/2 connection, C concurrent streams) and h2load (C connections, one stream each).
#
#   bench/h2load/compare.sh --image FILE [--rpc classify|explain] [--server URL]
#                           [--concurrency "1 4 16"] [--duration 10] [--warmup 2] [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
parse_options "$@"

echo "== dermxai bench ($rpc, ${duration}s per level after ${warmup}s warm-up)"
printf '%-12s %9s %9s %10s %10s %10s %10s %7s\n' concurrency requests "req/s" "p50 ms" "p90 ms" "p99 ms" "max ms" errors
for c in $levels; do
  cli bench --server "$server" --image "$image" --rpc "$rpc" --concurrency "$c" \
    --duration "$duration" --warmup "$warmup" --json "$out/dermxai.c$c.json" > "$out/dermxai.c$c.txt" 2>&1 || true
  /usr/bin/python3 - "$out/dermxai.c$c.json" "$c" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
p = {d["percentage"]: d["latency"] / 1e6 for d in s["latencyDistribution"]}
errors = sum(s["errorDistribution"].values())
print(f'{sys.argv[2]:<12} {s["count"]:>9} {s["rps"]:>9.2f} {p.get(50, 0):>10.2f} {p.get(90, 0):>10.2f} {p.get(99, 0):>10.2f} {s["slowest"] / 1e6:>10.2f} {errors:>7}')
PY
done

echo
echo "== h2load"
bash "$here/run.sh" --image "$image" --rpc "$rpc" --server "$server" --concurrency "$levels" \
  --duration "$duration" --warmup "$warmup" --out "$out" | tail -n +3
