#!/usr/bin/env bash
# Test data: the compiled device trees Debian ships in its arm64 kernel package (~570 real boards).
# Downloaded once with apt (the package linux-image-arm64:arm64 depends on), unpacked outside git,
# and cached. Prints the cache directory. Nothing third-party is committed.
set -euo pipefail
CACHE="${UDALLOC_DTB_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/udalloc/dtbs}"
if [ -f "$CACHE/.complete" ]; then
  echo "$CACHE"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
apt-get update -qq
pkg=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$pkg" ]; then
  echo "fetch-dtbs: cannot find the package linux-image-arm64:arm64 depends on" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1 || apt-get download "$pkg")
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './usr/lib/linux-image-*'
rm -rf "$CACHE"
mkdir -p "$CACHE"
cp -r "$tmp"/usr/lib/linux-image-*/. "$CACHE"/
echo "$pkg" > "$CACHE/.complete"
echo "$CACHE"
