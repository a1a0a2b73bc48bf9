#!/usr/bin/env bash
# Create or refresh .venv with exactly the locked versions. Used by `make run` and `make test`.
# A second run with nothing changed only compares a checksum.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="0.13.9"
# uv hard-links each installed file to its cache (its default on Linux; a copy only where the cache is on another
# file system), so the environment does not hold a second copy of every wheel: CI machines' disks can be small.
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
stamp=.venv/.bootstrap-stamp
want="$(cat pyproject.toml tools/pyproject.toml uv.lock scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

find_python() {
  # Home Assistant 2025.4 needs Python 3.13. Try, in order: $PYTHON, pyenv's 3.13.x (the shim on PATH fails
  # unless that version is selected, so ask pyenv for the real path), python3.13, python3.
  local candidates=() v
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -rV); do
      candidates+=("$(pyenv prefix "$v")/bin/python3")
    done
  fi
  candidates+=(python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13 python3 /usr/bin/python3)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2]==(3,13) else 1)' 2>/dev/null; then
  if ! PY="$(find_python)"; then
    echo "No Python 3.13 found. Home Assistant 2025.4 needs it." >&2
    echo "Install one (Debian/Ubuntu: 'apt-get install python3.13 python3.13-venv'; pyenv: 'pyenv install 3.13')," >&2
    echo "or point PYTHON=/path/to/python3.13 at it, then run this again." >&2
    exit 1
  fi
  say "Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

if [ ! -x .venv/bin/uv ]; then
  say "Installing uv $UV_VERSION from PyPI"
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" || {
    echo "Could not install uv from PyPI: check the network or a proxy (PIP_INDEX_URL), then run this again." >&2
    exit 1
  }
fi

say "Installing the locked dependencies (first run takes about a minute)"
# --inexact keeps pip and uv themselves in the environment; --frozen installs exactly uv.lock.
.venv/bin/uv sync --frozen --inexact --all-extras --python .venv/bin/python
echo "$want" > "$stamp"
say "Environment ready: .venv"
