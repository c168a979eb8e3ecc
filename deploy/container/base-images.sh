#!/usr/bin/env bash
# Builds local stand-ins for the two base images the Containerfile names, so that it builds
# unchanged where no container registry can be reached:
#   mcr.microsoft.com/dotnet/sdk:10.0     Debian 12 (minbase) + this machine's .NET SDK
#   mcr.microsoft.com/dotnet/aspnet:10.0  Debian 12 (minbase) + this machine's .NET and ASP.NET Core runtimes
# Like the published images: dotnet in /usr/share/dotnet (linked from /usr/bin/dotnet), an `app`
# user and group with id 1654 ($APP_UID), the same DOTNET_* / ASPNETCORE_* variables.
# Needs root, debootstrap and a Debian mirror (DEBIAN_MIRROR), and the .NET 10 SDK installed here.
# The SDK stand-in trusts this machine's CA bundle (CA_BUNDLE), so that `dotnet restore` inside the
# build works behind a TLS-inspecting proxy as it does here.
#   sudo deploy/container/base-images.sh            # ENGINE=docker for docker
set -euo pipefail
ENGINE=${ENGINE:-podman}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-bookworm}
SDK_IMAGE=${SDK_IMAGE:-mcr.microsoft.com/dotnet/sdk:10.0}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-mcr.microsoft.com/dotnet/aspnet:10.0}
# The folder that holds dotnet, sdk/, shared/ (what `dotnet --info` calls the base path's parent).
DOTNET_HOME=${DOTNET_HOME:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

[ "$(id -u)" -eq 0 ] || { echo "base-images.sh needs root (debootstrap)." >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "install debootstrap: apt-get install -y debootstrap" >&2; exit 2; }
command -v "$ENGINE" >/dev/null || { echo "$ENGINE is not installed" >&2; exit 2; }
[ -x "$DOTNET_HOME/dotnet" ] && [ -d "$DOTNET_HOME/sdk" ] || { echo "no .NET SDK in $DOTNET_HOME (set DOTNET_HOME)" >&2; exit 2; }

latest() { ls -1 "$1" | sort -V | tail -n 1; }
sdk_version=$(latest "$DOTNET_HOME/sdk")
runtime_version=$(latest "$DOTNET_HOME/shared/Microsoft.NETCore.App")
aspnet_version=$(latest "$DOTNET_HOME/shared/Microsoft.AspNetCore.App")
case "$runtime_version" in 10.*) ;; *) echo "need .NET 10 runtimes in $DOTNET_HOME, found $runtime_version" >&2; exit 2;; esac
echo "== .NET SDK $sdk_version, runtime $runtime_version, ASP.NET Core $aspnet_version from $DOTNET_HOME"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== debootstrap --variant=minbase $SUITE (from $MIRROR)"
# The runtime's native dependencies, as the published images install them.
debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,tzdata,zlib1g,libstdc++6,libgcc-s1 \
  "$SUITE" "$work/base" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
chroot "$work/base" sh -c 'groupadd --gid 1654 app && useradd --uid 1654 --gid 1654 --create-home --shell /bin/false app'
rm -rf "$work/base"/var/lib/apt/lists/* "$work/base"/var/cache/apt/*.bin "$work/base"/var/cache/apt/archives/*.deb \
       "$work/base"/var/log/* "$work/base"/usr/share/doc/* "$work/base"/usr/share/man/*

copy_dotnet() { # ROOTFS PART...
  local root=$1; shift
  mkdir -p "$root/usr/share/dotnet"
  (cd "$DOTNET_HOME" && cp -a --parents "$@" "$root/usr/share/dotnet/")
  ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
}

common_env=(--change "ENV APP_UID=1654" --change "ENV DOTNET_RUNNING_IN_CONTAINER=true"
            --change "ENV DOTNET_VERSION=$runtime_version" --change "ENV ASPNET_VERSION=$aspnet_version"
            --change "LABEL org.opencontainers.image.description=local-stand-in")

echo "== $RUNTIME_IMAGE"
cp -a "$work/base" "$work/aspnet"
copy_dotnet "$work/aspnet" dotnet host "shared/Microsoft.NETCore.App/$runtime_version" \
  "shared/Microsoft.AspNetCore.App/$aspnet_version" LICENSE.txt ThirdPartyNotices.txt
tar -C "$work/aspnet" -c . | "$ENGINE" import "${common_env[@]}" \
  --change "ENV ASPNETCORE_HTTP_PORTS=8080" - "$RUNTIME_IMAGE" >/dev/null

echo "== $SDK_IMAGE"
cp -a "$work/base" "$work/sdk"
copy_dotnet "$work/sdk" dotnet host shared packs sdk sdk-manifests templates LICENSE.txt ThirdPartyNotices.txt
[ -f "$CA_BUNDLE" ] && cp "$CA_BUNDLE" "$work/sdk/etc/ssl/certs/ca-certificates.crt"
sdk_env=()
[ -n "${NUGET_CERT_REVOCATION_MODE:-}" ] && sdk_env=(--change "ENV NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
tar -C "$work/sdk" -c . | "$ENGINE" import "${common_env[@]}" \
  --change "ENV DOTNET_SDK_VERSION=$sdk_version" --change "ENV DOTNET_NOLOGO=true" \
  --change "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1" --change "ENV DOTNET_GENERATE_ASPNET_CERTIFICATE=false" \
  --change "ENV NUGET_XMLDOC_MODE=skip" --change "ENV DOTNET_USE_POLLING_FILE_WATCHER=true" \
  "${sdk_env[@]}" - "$SDK_IMAGE" >/dev/null

"$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^(${SDK_IMAGE%:*}|${RUNTIME_IMAGE%:*}):"
