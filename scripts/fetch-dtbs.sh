#!/usr/bin/env bash
# Test data: the compiled device trees Debian ships in its arm64 kernel package (~570 real boards),
# of the same kernel series as the test kernel and the driver facts (linux-source-6.12): the package
# linux-image-6.12-arm64 depends on, else (a release without it) the one linux-image-arm64 depends on.
# Downloaded once with apt using a private apt state in a temporary directory, unpacked outside git,
# and cached by package name. Prints the cache directory.
# Nothing third-party is committed, and the machine's package configuration is left as it was.
set -euo pipefail
CACHE="${UDALLOC_DTB_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/udalloc/dtbs}"
# A cache filled from the 6.12 series is kept; one from another series (an older script) is replaced.
if [ -f "$CACHE/.complete" ] && grep -q '^linux-image-6\.12' "$CACHE/.complete"; then
  echo "$CACHE"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# A private apt state: arm64 package lists and caches live in $tmp, so the machine's own package
# configuration (foreign architectures, lists, dpkg status) is never changed.
state="$tmp/apt"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
: > "$state/status"
apt_opts=(-o "Dir::State=$state" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
  -o "APT::Architecture=arm64" -o "APT::Architectures::=arm64" -o "Debug::NoLocking=1" -q)
apt-get "${apt_opts[@]}" update >/dev/null
pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-6.12-arm64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }' || true)
[ -n "$pkg" ] || pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-arm64 | awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$pkg" ]; then
  echo "fetch-dtbs: cannot find the package linux-image-arm64 (arm64) depends on" >&2
  exit 1
fi
(cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg" >/dev/null 2>&1 || apt-get "${apt_opts[@]}" download "$pkg")
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './usr/lib/linux-image-*'
rm -rf "$CACHE"
mkdir -p "$CACHE"
cp -r "$tmp"/usr/lib/linux-image-*/. "$CACHE"/
echo "$pkg" > "$CACHE/.complete"
echo "$CACHE"
