#!/usr/bin/env bash
# The newest end of the supported range: Home Assistant on Python 3.14 (envs/newest/pyproject.toml, uv.lock).
#
#   scripts/newest-ha.sh bootstrap      create or refresh .venv-newest with exactly envs/newest/uv.lock
#   scripts/newest-ha.sh lock           re-resolve envs/newest/uv.lock (after moving the pins there)
#   scripts/newest-ha.sh run CMD...     run CMD in the project folder with .venv-newest's bin first on PATH
#   scripts/newest-ha.sh check          exit 0 when a Python 3.14 can be had here (natively or by a chroot)
#
# With a Python >= 3.14.2 on the machine ($PYTHON314, pyenv, python3.14) it is used directly. Otherwise, as root
# on Debian, a minimal Debian sid root with its python3.14 is made once in .newest/sid (debootstrap, about a
# minute; Debian's registry serves sid's binary packages) and every command runs inside it, in a private mount
# namespace so nothing stays mounted when it ends. The project's parent folder is bind-mounted at the same path,
# so the checkout, ../shared and every path in the virtual environment are the same inside and outside.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT="$(pwd)"
ROOT="$PROJECT/.newest/sid"
VENV="$PROJECT/.venv-newest"
UV_VERSION="0.13.9"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

native_python() {
  local candidates=() v
  [ -n "${PYTHON314:-}" ] && candidates+=("$PYTHON314")
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.14\.[0-9]+$' | sort -rV); do
      candidates+=("$(pyenv prefix "$v")/bin/python3")
    done
  fi
  candidates+=(python3.14 /usr/bin/python3.14 /usr/local/bin/python3.14)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 14, 2) and sys.version_info[:2] == (3, 14) else 1)' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

can_chroot() {
  [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1
}

make_root() {
  if [ -x "$ROOT/usr/bin/python3.14" ]; then
    # A root made before mosquitto (the MQTT uplink's tests) was on the list below gets it now.
    [ -x "$ROOT/usr/sbin/mosquitto" ] && return 0
    say "Installing mosquitto in the sid root"
    in_root /bin/bash -c 'apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends mosquitto >/dev/null' >>"$PROJECT/.newest/debootstrap.log" 2>&1 || {
      echo "installing mosquitto in the sid root failed; see .newest/debootstrap.log" >&2
      exit 1
    }
    return 0
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "Installing debootstrap (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  say "Making a Debian sid root with Python 3.14 in .newest/sid (about a minute, once)"
  rm -rf "$ROOT.partial"
  mkdir -p "$(dirname "$ROOT")"
  debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates \
    sid "$ROOT.partial" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$PROJECT/.newest/debootstrap.log" 2>&1 || {
    echo "debootstrap failed; see .newest/debootstrap.log" >&2
    exit 1
  }
  # What the tests use besides Python, as scripts/system-packages.sh installs on the host (mosquitto: the MQTT
  # uplink's broker), and g++ for the two
  # packages Home Assistant gets from its own wheel index but PyPI has no Python 3.14 wheel of (pymicro-vad,
  # pyspeex-noise, which its voice pipeline imports); Chromium needs apt's
  # own configuration run (debootstrap's --include cannot configure it).
  ROOT="$ROOT.partial" in_root /bin/bash -c 'apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends mbpoll mosquitto libturbojpeg0 chromium fonts-dejavu-core g++ python3.14-dev >/dev/null \
    && apt-get clean && rm -rf /var/lib/apt/lists/*' \
    >>"$PROJECT/.newest/debootstrap.log" 2>&1 || {
    echo "installing the test's Debian packages in the sid root failed; see .newest/debootstrap.log" >&2
    exit 1
  }
  mv "$ROOT.partial" "$ROOT"
}

# Run "$@" inside the sid root, with the project's parent at the same path, /proc, /dev and /sys mounted.
# uv's cache is .newest/uv-cache, on the same mount as .venv-newest, so uv hard-links the installed files to it
# instead of holding a second copy (the root's own /root is another mount, where links fail).
# The parent is bound recursively: ../shared (the face photos) may be a mount of its own, as on CI, or a
# symlink to elsewhere, so the folder the tests read is bound at its real path as well.
in_root() {
  local parent shared
  parent="$(dirname "$PROJECT")"
  shared="$(realpath -m "${SMART_COMMUNITY_FACES:-$parent/shared/faces}")"
  [ -d "$shared" ] || shared=""
  cp /etc/resolv.conf /etc/hosts "$ROOT/etc/" 2>/dev/null || true
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
  mkdir -p "$ROOT$parent" "$ROOT/proc" "$ROOT/dev" "$ROOT/sys"
  # The package indexes and proxies this machine is set up for apply inside too.
  local var
  PASS=""
  for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL \
    UV_INDEX_URL UV_EXTRA_INDEX_URL UV_DEFAULT_INDEX UV_INDEX MODBUS_PROPERTY_EXAMPLES PYTEST_ADDOPTS \
    SMART_COMMUNITY_FACES; do
    [ -n "${!var:-}" ] && PASS+=" $var=${!var}"
  done
  export PASS
  unshare --mount --propagation private -- /bin/bash -c '
    set -e
    root=$1 parent=$2 project=$3 shared=$4; shift 4
    mount --rbind "$parent" "$root$parent"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    case "$shared" in
      "" | "$parent"/*) ;;
      *) mkdir -p "$root$shared" && mount --rbind "$shared" "$root$shared" ;;
    esac
    exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
      TERM="${TERM:-dumb}" CI="${CI:-}" PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 \
      UV_CACHE_DIR="$project/.newest/uv-cache" SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
      REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt $PASS /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$project" "$@"
  ' bash "$ROOT" "$parent" "$PROJECT" "$shared" "$@"
}

# Run "$@" natively or in the root, whichever this machine uses.
on_newest() {
  if PY="$(native_python)"; then
    PYTHON314="$PY" UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1 "$@"
  elif can_chroot; then
    make_root
    in_root "$@"
  else
    echo "No Python 3.14 here, and no way to make one: Home Assistant 2026.x needs Python >= 3.14.2." >&2
    echo "Install one (python3.14 on PATH, or PYTHON314=/path/to/python3.14), or run as root on Debian so a" >&2
    echo "Debian sid root with its python3.14 can be made (see ../shared/docs/ENVIRONMENT.md)." >&2
    exit 1
  fi
}

python_inside() {
  if PY="$(native_python)"; then echo "$PY"; else echo /usr/bin/python3.14; fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  check)
    native_python >/dev/null || can_chroot
    ;;
  bootstrap)
    stamp="$VENV/.bootstrap-stamp"
    want="$(cat pyproject.toml envs/newest/pyproject.toml envs/newest/uv.lock scripts/newest-ha.sh | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && { native_python >/dev/null || [ -x "$ROOT/usr/bin/python3.14" ]; }; then
      exit 0
    fi
    PY="$(python_inside)"
    on_newest /bin/bash -c '
      set -e
      py=$1 venv=$2 uv_version=$3
      if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sys; sys.exit(sys.version_info[:2] != (3, 14))" 2>/dev/null; then
        rm -rf "$venv"
        "$py" -m venv "$venv"
      fi
      [ -x "$venv/bin/uv" ] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
      echo "==> Installing the newest end (envs/newest/uv.lock) into .venv-newest" >&2
      UV_PROJECT_ENVIRONMENT="$venv" "$venv/bin/uv" sync --frozen --inexact --project envs/newest --python "$venv/bin/python"
    ' bash "$PY" "$VENV" "$UV_VERSION"
    echo "$want" >"$stamp"
    ;;
  lock)
    PY="$(python_inside)"
    on_newest /bin/bash -c '
      set -e
      py=$1 uv_version=$2 tmp=$(mktemp -d)
      "$py" -m venv "$tmp/uv" && "$tmp/uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
      uv="$tmp/uv/bin/uv"
      plugin=$(grep -oE "pytest-homeassistant-custom-component==[^\"]+" envs/newest/pyproject.toml)
      "$uv" pip install --quiet --no-deps --target "$tmp/ha" "$plugin"
      ha=$(grep -hoE "^Requires-Dist: homeassistant==[^ ]+" "$tmp"/ha/pytest_homeassistant_custom_component-*.dist-info/METADATA | cut -d" " -f2)
      echo "==> $plugin tests $ha" >&2
      "$uv" pip install --quiet --no-deps --target "$tmp/ha" "$ha"
      "$py" scripts/ha_pins.py "$tmp/ha" envs/newest/pyproject.toml
      "$uv" lock --project envs/newest --python "$py"
      rm -rf "$tmp"
    ' bash "$PY" "$UV_VERSION"
    ;;
  run)
    [ $# -gt 0 ] || { echo "usage: scripts/newest-ha.sh run CMD..." >&2; exit 2; }
    on_newest /usr/bin/env PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin" "$@"
    ;;
  *)
    echo "usage: scripts/newest-ha.sh bootstrap|lock|run CMD...|check" >&2
    exit 2
    ;;
esac
