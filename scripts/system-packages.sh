#!/usr/bin/env bash
# Debian packages the tests and the demo use: mbpoll (an independent Modbus master for the tests), mosquitto
# (the MQTT broker the MQTT uplink's tests start on loopback),
# libturbojpeg0 (Home Assistant's fast JPEG path for camera snapshots), chromium (browser tests), gcc and
# libc6-dev (the durability bench compiles its power-loss shim with cc).
# Not postgresql: it is optional (the county store's PostgreSQL tests skip without it; `make test` is green either
# way). To run those tests: apt-get install postgresql (docs/development.md).
# Installs only what is missing; explains what to do when it cannot.
set -uo pipefail
need=()
command -v mbpoll >/dev/null 2>&1 || need+=(mbpoll)
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } || need+=(mosquitto)
ldconfig -p 2>/dev/null | grep -q libturbojpeg.so.0 || need+=(libturbojpeg0)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v cc >/dev/null 2>&1 && [ -e /usr/include/stdio.h ]; } || need+=(gcc libc6-dev)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing Debian packages: ${need[*]} (not a Debian system: install them by hand; tests that need them skip)." >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "==> Installing Debian packages: ${need[*]}"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; }; then
  echo "Could not install ${need[*]}: run 'sudo apt-get install ${need[*]}' yourself; tests that need them skip." >&2
fi
exit 0
