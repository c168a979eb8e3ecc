#!/usr/bin/env bash
# Smoke test of the CPU image on a real container runtime (podman by default, ENGINE=docker):
# builds it, checks what is in it, runs it read-only and unprivileged with the bundled model and the
# samples mounted, explains two samples with the CLI from outside and compares them with a server run
# outside the container (same top-1 class, grids within 1e-6), then sends SIGTERM during a burst of
# 16 calls: every call the server accepted must complete. Last line: `N passed, N failed`.
#   deploy/container/smoke.sh
# RUN_OPTS / BUILD_OPTS: extra options for `run` / `build` (e.g. "--network host" where the engine
# cannot publish ports). Needs the .NET 10 SDK (for the CLI and the outside server) and python3.
set -uo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ENGINE=${ENGINE:-podman}
RUN_OPTS=${RUN_OPTS:-}
PORT=${SMOKE_PORT:-5600}
METRICS_PORT=$((PORT + 1))
LOCAL_PORT=$((PORT + 10))
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
image=${IMAGE:-dermxai-server}:$version
container=dermxai-smoke-$$
work=$(mktemp -d)
local_pid=
passed=0 failed=0
cleanup() {
  "$ENGINE" rm -f "$container" >/dev/null 2>&1
  [ -n "$local_pid" ] && kill "$local_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
cli() { dotnet src/Client/bin/Release/net10.0/dermxai.dll "$@"; }
wait_serving() { # URL SECONDS
  for _ in $(seq 1 "$2"); do cli health --server "$1" --retries 0 --deadline 2 >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

echo "== base images and the CPU image"
if ! "$ENGINE" image inspect mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1 \
   && ! "$ENGINE" pull mcr.microsoft.com/dotnet/aspnet:10.0 >/dev/null 2>&1; then
  echo "   no registry: building the stand-in base images (deploy/container/base-images.sh)"
  ENGINE=$ENGINE deploy/container/base-images.sh || { bad "stand-in base images"; finish; }
fi
if ENGINE=$ENGINE deploy/container/build.sh cpu > "$work/build.log" 2>&1; then
  ok "image $image built: $(grep -o '[0-9]* MB ([0-9]* bytes)' "$work/build.log")"
else
  tail -n 30 "$work/build.log"; bad "image build"; finish
fi

echo "== what is in the image"
label() { "$ENGINE" image inspect "$image" --format "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
[ "$(label version)" = "$version" ] && [ -n "$(label revision)" ] && [ -n "$(label source)" ] \
  && ok "OCI labels: version $(label version), revision $(label revision), source $(label source)" \
  || bad "OCI labels: version '$(label version)' revision '$(label revision)' source '$(label source)'"
user=$("$ENGINE" image inspect "$image" --format '{{.Config.User}}')
[ "${user%%:*}" = 1654 ] && ok "runs as user $user" || bad "user is '$user'"
health=$("$ENGINE" image inspect "$image" --format '{{json .Config.Healthcheck}}' 2>/dev/null)
case "$health" in ''|null|'{}') ok "no HEALTHCHECK" ;; *) bad "HEALTHCHECK $health" ;; esac
leftovers=$("$ENGINE" run --rm $RUN_OPTS --entrypoint sh "$image" -c \
  'ls -d /usr/share/dotnet/sdk /src /root/.nuget 2>/dev/null; find / -xdev \( -iname "*.Tests.dll" -o -iname "nunit*" -o -iname "*.pdb" -o -name "*.csproj" \) 2>/dev/null | head')
[ -z "$leftovers" ] && ok "no SDK, sources or test files" || bad "found: $leftovers"

echo "== building the CLI and the server (outside the container)"
dotnet build src/Client -c Release -v q -nologo > "$work/dotnet.log" 2>&1 && dotnet build src/Server -c Release -v q -nologo >> "$work/dotnet.log" 2>&1 \
  || { tail -n 20 "$work/dotnet.log"; bad "dotnet build"; finish; }

echo "== running $image read-only, unprivileged, model and samples mounted"
publish=(-p "127.0.0.1:$PORT:$PORT" -p "127.0.0.1:$METRICS_PORT:$METRICS_PORT")
case " $RUN_OPTS " in *" --network host "*|*" --network=host "*) publish=() ;; esac
sha=$(sha256sum models/default/model.onnx | cut -d' ' -f1)
# shellcheck disable=SC2086
"$ENGINE" run -d --name "$container" --read-only --tmpfs /tmp:rw,size=64m --cap-drop ALL \
  --security-opt no-new-privileges $RUN_OPTS "${publish[@]}" \
  -v "$PWD/models/default:/models:ro" -v "$PWD/samples:/samples:ro" \
  -e DERMXAI__MODEL=/models/model.onnx -e DERMXAI__EXPECTEDMODELSHA256="$sha" \
  -e DERMXAI__URLS="http://0.0.0.0:$PORT" -e DERMXAI__METRICSURL="http://0.0.0.0:$METRICS_PORT" \
  "$image" > /dev/null || { bad "container start"; finish; }
t0=$(date +%s)
if wait_serving "http://127.0.0.1:$PORT" 180; then
  ok "health SERVING $(( $(date +%s) - t0 )) s after start (model pinned, loaded from /models, warmed)"
else
  "$ENGINE" logs "$container" 2>&1 | tail -n 20; bad "health never SERVING"; finish
fi
"$ENGINE" exec "$container" sh -c 'touch /app/x || touch /x || touch /models/x' 2>/dev/null \
  && bad "the root filesystem or /models is writable" || ok "root filesystem and /models are read-only"

echo "== two samples through the CLI: container vs. a server outside the container"
samples=(samples/images/sample_000000.png samples/images/sample_000003.jpg)
cli explain "${samples[@]}" --server "http://127.0.0.1:$PORT" --out "$work/container" --outputs grid \
  --method transformer_attribution,attention_rollout --json "$work/container.json" > "$work/container.txt" 2>&1 \
  && ok "explained in the container: $(grep -c '"ok": true' "$work/container.json") of 2" || bad "explain via the container: $(tail -n 3 "$work/container.txt")"
dotnet src/Server/bin/Release/net10.0/dermxai-server.dll --model models/default/model.onnx --device cpu \
  --urls "http://127.0.0.1:$LOCAL_PORT" --metrics-url "" > "$work/local.log" 2>&1 &
local_pid=$!
if wait_serving "http://127.0.0.1:$LOCAL_PORT" 120; then
  cli explain "${samples[@]}" --server "http://127.0.0.1:$LOCAL_PORT" --out "$work/local" --outputs grid \
    --method transformer_attribution,attention_rollout --json "$work/local.json" > "$work/local.txt" 2>&1 || true
else
  bad "the server outside the container never became SERVING"
fi
kill "$local_pid" 2>/dev/null; wait "$local_pid" 2>/dev/null; local_pid=
if comparison=$(python3 - "$work/container.json" "$work/local.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
worst, lines = 0.0, []
for x, y in zip(a["images"], b["images"], strict=True):
    assert x["ok"] and y["ok"], "a call failed"
    top = (x["predictions"][0]["index"], y["predictions"][0]["index"])
    assert top[0] == top[1], f"{x['file']}: top-1 {top[0]} vs {top[1]}"
    for e, f in zip(x["explanations"], y["explanations"], strict=True):
        d = max(abs(p - q) for p, q in zip(e["grid"]["values"], f["grid"]["values"], strict=True))
        worst = max(worst, d)
    lines.append(f"{x['file'].split('/')[-1]}: top-1 {x['predictions'][0]['label']} in both")
assert worst <= 1e-6, f"grids differ by {worst:.3g}"
print("; ".join(lines) + f"; max grid difference {worst:.3g}")
PY
); then ok "container = outside: $comparison"; else bad "container vs. outside: $comparison"; fi

echo "== SIGTERM during a burst of 16 calls"
mkdir -p "$work/burst"
audit_lines() { "$ENGINE" logs "$container" 2>&1 | grep -o "^ *Explain [^ ]* model " | sort -u | wc -l; }
audited_before=$(audit_lines)
for i in $(seq -w 1 16); do cp samples/images/sample_000001.png "$work/burst/photo_$i.png"; done
cli explain "$work/burst" --server "http://127.0.0.1:$PORT" --parallel 16 --retries 0 --deadline 120 \
  --method transformer_attribution,generic_attention,lrp_rollout --outputs overlay,heatmap,grid \
  --out "$work/burst-out" --json "$work/burst.json" > "$work/burst.txt" 2>&1 &
burst_pid=$!
# Signal once the server is answering the burst (its first audit line), while the rest are in flight.
for _ in $(seq 1 600); do
  [ "$(audit_lines)" -gt "$audited_before" ] && break
  sleep 0.1
done
"$ENGINE" kill --signal TERM "$container" > /dev/null
t_term=$(date +%s.%N)
finished_at_term=$(( $(audit_lines) - audited_before ))
wait "$burst_pid"
exit_code=$("$ENGINE" wait "$container" 2>/dev/null | tail -n 1)
stopped_in=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$t_term")
audited=$(( $(audit_lines) - audited_before ))
if summary=$(python3 - "$work/burst.json" "$audited" "$finished_at_term" <<'PY'
import collections, json, sys
report, audited, at_term = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
done = sum(i["ok"] for i in report["images"])
errors = collections.Counter(i["error"].split(":")[0] for i in report["images"] if not i["ok"])
print(f"16 sent, {at_term} done when SIGTERM came, {done} completed OK, {audited} audit lines of the server, refused: {dict(errors) or 'none'}")
assert len(report["images"]) == 16
assert set(errors) <= {"UNAVAILABLE"}, "a call ended with a status other than OK or UNAVAILABLE"
assert done == audited, "the server finished a different number of calls than the client received"
assert done >= 1, "no call was in flight when SIGTERM came"
PY
); then ok "SIGTERM mid-burst: $summary"; else bad "SIGTERM mid-burst: $summary"; fi
[ "$exit_code" = 0 ] && ok "container exited 0, ${stopped_in} s after SIGTERM" || bad "container exit code '$exit_code'"
finish
