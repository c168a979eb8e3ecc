#!/usr/bin/env bash
# Checks deploy/kubernetes without a cluster: renders the cpu and gpu overlays with `kubectl kustomize`,
# validates every object against the Kubernetes schemas offline and checks probes, resources,
# securityContext, the image tag and the rest (validate/check.mjs). Installs what it needs: the npm
# packages pinned in validate/package-lock.json (npm ci) and, as root on Debian, kubectl
# (kubernetes-client) when it is missing. Last line: `N passed, N failed`; exit 1 when a check failed.
# When the tools cannot be had it prints `skipped: <reason>` and exits 0.
#   deploy/kubernetes/check.sh
set -uo pipefail
cd "$(dirname "$0")"
skip() { echo "skipped: $1"; exit 0; }

command -v node >/dev/null && command -v npm >/dev/null \
  || skip "node and npm are not installed (Debian: apt-get install nodejs npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $node_major is older than 18"

if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "== installing kubectl (Debian kubernetes-client)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null 2>&1; }
  fi
  command -v kubectl >/dev/null || skip "kubectl is not installed and could not be installed (apt-get install kubernetes-client as root)"
fi
# The overlays use Kustomize v4+ fields (labels, patches); kubectl reports its Kustomize from 1.24 on.
kustomize=$(kubectl version --client -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).kustomizeVersion??"")}catch{console.log("")}})')
case "$kustomize" in
  v[4-9].*|v[1-9][0-9].*) ;;
  *) skip "kubectl $(kubectl version --client 2>/dev/null | head -n 1) embeds no Kustomize v4+ (found '${kustomize:-none}'); install kubectl >= 1.24" ;;
esac
echo "== kubectl with Kustomize $kustomize"

if ! npm ci --prefix validate --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
  npm ls --prefix validate >/dev/null 2>&1 || skip "npm ci failed in deploy/kubernetes/validate (is the npm registry reachable?)"
  echo "   npm ci failed; using the packages already installed"
fi
node validate/check.mjs kubectl
