#!/usr/bin/env bash
# Builds the dermxai-server image from deploy/container/Containerfile and reports its size.
#   deploy/container/build.sh [cpu|cuda]     ENGINE=podman (default) or docker
# The tag is the product version from Directory.Build.props (VERSION for cpu, VERSION-cuda for cuda);
# the OCI labels carry that version, the git revision and the source URL (git remote origin).
# Extra `build` options go in BUILD_OPTS, e.g. BUILD_OPTS="--network host".
set -euo pipefail
cd "$(dirname "$0")/../.."
variant=${1:-cpu}
case "$variant" in cpu|cuda) ;; *) echo "usage: $0 [cpu|cuda]" >&2; exit 2;; esac
ENGINE=${ENGINE:-podman}
IMAGE=${IMAGE:-dermxai-server}
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
[ -n "$version" ] || { echo "no <Version> in Directory.Build.props" >&2; exit 2; }
tag=$version; [ "$variant" = cuda ] && tag=$version-cuda
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision=$revision-dirty
source=$(git config --get remote.origin.url 2>/dev/null || echo unknown)

echo "== $ENGINE build $IMAGE:$tag (variant $variant, revision $revision)"
t0=$(date +%s)
# shellcheck disable=SC2086
"$ENGINE" build ${BUILD_OPTS:-} -f deploy/container/Containerfile \
  --build-arg VARIANT="$variant" --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
  -t "$IMAGE:$tag" .
echo "   built in $(( $(date +%s) - t0 )) s"
size=$("$ENGINE" image inspect "$IMAGE:$tag" --format '{{.Size}}')
echo "== $IMAGE:$tag: $(( size / 1000000 )) MB ($size bytes)"
