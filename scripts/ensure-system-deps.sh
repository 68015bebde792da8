#!/usr/bin/env bash
# Installs what the tests and benchmarks need from Debian when it is missing:
# a Docker engine (docker.io) to start privately, a static busybox to build
# the test image from, tmux (TUI end-to-end tests), openssl (TLS engine
# test), setpriv and script (permission test, benchmark pty), chromium (the
# tray's pages, rendered headless with playwright-core), systemd-analyze (the
# agent's units). Needs root and
# apt-get, as on CI machines.
set -euo pipefail
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
# The test image has no libc: busybox must be the static build (ldd fails on it).
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then need+=(busybox-static); fi
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v script >/dev/null 2>&1 || need+=(bsdutils)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The single executables (scripts/release.mjs): strip for both architectures, xz for the
# archives, and qemu with arm64's C libraries to build and test the arm64 one on this machine.
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v aarch64-linux-gnu-strip >/dev/null 2>&1 || need+=(binutils-aarch64-linux-gnu)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
[ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need+=(libc6-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need+=(libstdc++6-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libatomic.so.1 ] || need+=(libatomic1-arm64-cross)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# systemd-analyze verify checks the agent's systemd units (the package is not started, only its tools used).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing: ${need[*]}. Install them (Debian: sudo apt-get install -y ${need[*]}) and run again." >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
