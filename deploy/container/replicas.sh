#!/usr/bin/env bash
# Three replicas of the CPU image behind one name, balanced by the client (dns:/// round robin):
# a closed-loop Explain load spreads over them (calls per replica from each one's /metrics), then a
# second load runs while one replica is killed (SIGKILL): the client retries what ended UNAVAILABLE
# on the others and must see no failed call. Last line: `N passed, N failed`.
#   deploy/container/replicas.sh NAME
# NAME must resolve to 127.0.0.1, 127.0.0.2 and 127.0.0.3 (e.g. three /etc/hosts lines, with
# `multi on` in /etc/host.conf); the replicas share the host network (RUN_OPTS must hold
# --network host) and listen on 127.0.0.N:PORT. Build the image first (build.sh cpu).
set -uo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
name=${1:?usage: $0 NAME (resolving to 127.0.0.1, 127.0.0.2 and 127.0.0.3)}
ENGINE=${ENGINE:-podman}
RUN_OPTS=${RUN_OPTS:---network host}
PORT=${REPLICAS_PORT:-5700}
CONCURRENCY=${CONCURRENCY:-6}
RETRIES=${RETRIES:-4}   # the CLI default
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
image=${IMAGE:-dermxai-server}:$version
work=$(mktemp -d)
passed=0 failed=0
replicas=(127.0.0.1 127.0.0.2 127.0.0.3)
cleanup() { for i in 1 2 3; do "$ENGINE" rm -f "dermxai-replica-$i-$$" >/dev/null 2>&1; done; rm -rf "$work"; }
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
cli() { dotnet src/Client/bin/Release/net10.0/dermxai.dll "$@"; }
explained() { # ADDRESS: Explain calls answered OK by that replica so far
  curl -fsS "http://$1:$((PORT + 1))/metrics" 2>/dev/null \
    | awk '/^dermxai_requests_total\{/ && /rpc="Explain"/ && /code="OK"/ { s += $2 } END { print s + 0 }'
}
bench() { # SECONDS JSON
  cli bench --server "dns:///$name:$PORT" --rpc explain --image samples/images/sample_000002.png \
    --concurrency "$CONCURRENCY" --duration "$1s" \
    --warmup 0 --retries "$RETRIES" --deadline 60 --json "$2" > "$2.txt" 2>&1 || { echo "   bench: $(tail -n 3 "$2.txt")"; return 0; }
}

resolved=$(getent ahostsv4 "$name" | awk '{ print $1 }' | sort -u | tr '\n' ' ')
[ "$resolved" = "127.0.0.1 127.0.0.2 127.0.0.3 " ] || { echo "$name resolves to '$resolved', not 127.0.0.1-3" >&2; exit 2; }
dotnet build src/Client -c Release -v q -nologo > "$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; exit 2; }

echo "== three replicas of $image behind dns:///$name:$PORT"
for i in 1 2 3; do
  address=${replicas[$((i - 1))]}
  # shellcheck disable=SC2086
  "$ENGINE" run -d --name "dermxai-replica-$i-$$" --read-only --tmpfs /tmp:rw,size=64m --cap-drop ALL $RUN_OPTS \
    -e DERMXAI__URLS="http://$address:$PORT" -e DERMXAI__METRICSURL="http://$address:$((PORT + 1))" \
    -e DERMXAI__INTRAOPTHREADS=1 "$image" > /dev/null || { bad "replica $i start"; finish; }
done
for address in "${replicas[@]}"; do
  for _ in $(seq 1 180); do cli health --server "http://$address:$PORT" --retries 0 --deadline 2 >/dev/null 2>&1 && break; sleep 1; done
  cli health --server "http://$address:$PORT" --retries 0 >/dev/null 2>&1 || { bad "replica $address never SERVING"; finish; }
done
ok "3 replicas SERVING"

echo "== load over all three (${CONCURRENCY} concurrent Explain calls, 20 s)"
bench 20 "$work/spread.json"
counts=(); for address in "${replicas[@]}"; do counts+=("$(explained "$address")"); done
total=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['count'], sum(s['errorDistribution'].values()))" "$work/spread.json")
echo "   client: calls and errors: $total; per replica: ${replicas[0]} ${counts[0]}, ${replicas[1]} ${counts[1]}, ${replicas[2]} ${counts[2]}"
min=$(printf '%s\n' "${counts[@]}" | sort -n | head -n 1)
[ "$min" -gt 0 ] && [ "${total#* }" = 0 ] && ok "calls spread over every replica (${counts[*]})" || bad "spread: ${counts[*]}, errors ${total#* }"

echo "== load for 30 s (UNAVAILABLE retried up to $RETRIES times); replica ${replicas[1]} killed (SIGKILL) after 10 s"
before=(); for address in "${replicas[@]}"; do before+=("$(explained "$address")"); done
bench 30 "$work/kill.json" &
bench_pid=$!
sleep 10
"$ENGINE" kill --signal KILL "dermxai-replica-2-$$" > /dev/null && echo "   killed replica 2 at $(date -u +%T)"
wait "$bench_pid"
after=(); for address in "${replicas[0]}" "${replicas[2]}"; do after+=("$(explained "$address")"); done
outcome=$(python3 - "$work/kill.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{s['count']} calls, statuses {dict(s['statusCodeDistribution'])}, errors {dict(s['errorDistribution']) or 'none'}")
PY
)
echo "   client: $outcome"
echo "   survivors during this load: ${replicas[0]} +$(( after[0] - before[0] )), ${replicas[2]} +$(( after[1] - before[2] ))"
grep -q "errors none" <<< "$outcome" && ok "one replica killed mid-load: no failed call ($outcome)" || bad "killed replica: $outcome"
finish
