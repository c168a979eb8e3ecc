# Shared by run.sh and compare.sh: their options, and the dermxai CLI (the Release build if there is one).
# shellcheck shell=bash
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image="" rpc=classify server=http://127.0.0.1:5000 levels="1 4 16" duration=10 warmup=2 out=""

parse_options() {
  while [ $# -gt 0 ]; do
    case $1 in
      --image) image=$2;; --rpc) rpc=$2;; --server) server=$2;; --concurrency) levels=$2;;
      --duration) duration=$2;; --warmup) warmup=$2;; --out) out=$2;;
      *) echo "unknown option $1" >&2; exit 2;;
    esac
    shift 2
  done
  [ -n "$image" ] || { echo "give --image FILE" >&2; exit 2; }
  case $rpc in classify|explain) ;; *) echo "--rpc classify|explain" >&2; exit 2;; esac
  out=${out:-$(mktemp -d)}
  mkdir -p "$out"
}

cli() {
  local built="$repo/src/Client/bin/Release/net10.0/dermxai.dll"
  if [ -f "$built" ]; then dotnet "$built" "$@"; else dotnet run --project "$repo/src/Client" -c Release -- "$@"; fi
}
