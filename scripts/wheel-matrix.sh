#!/usr/bin/env bash
# Which of the library's requirements install from wheels on the platforms Home Assistant runs on: glibc and musl
# (Home Assistant OS and the Home Assistant container are Alpine, musl), x86-64 and aarch64, CPython 3.13 and 3.14.
#
# For every requirement, platform and Python version it asks uv to resolve with building from source disabled
# (--only-binary :all:), except for face-recognition-models, a pure-data sdist that builds anywhere. A cell is
#   wheel X       resolved to wheels only (X is the version picked)
#   sdist X       resolved, face-recognition-models from its sdist (allowed: data only, no compiler)
#   sdist only X  no usable wheel, only an sdist: needs a compiler and headers on the target
#   no dep wheel  the package has a wheel but one of its dependencies has none
#   missing       neither a wheel nor an sdist fits
# Exit status: 0 when every required package resolves everywhere (alone and all together); 1 when one does not
# (optional packages are reported, never fail the run); 2 on usage errors; 3 when uv failed for another reason than
# an unsatisfiable resolution (network, index), so that a broken run is not taken for a missing wheel.
#
# usage: scripts/wheel-matrix.sh [--python VER]... [--constraint FILE]... [--glibc 2_28]
#   --python VER      only this Python version (repeatable; default 3.13 and 3.14)
#   --constraint FILE passed to uv as --constraint (e.g. Home Assistant's package_constraints.txt; use it with the
#                     Python version that Home Assistant release runs on)
#   --glibc X_Y       the manylinux level the glibc columns are resolved at (default 2_28, see below)
# environment: UV (default: the project venv's uv), plus uv's own UV_* settings (UV_INDEX_URL, ...).
#
# uv's "x86_64-unknown-linux-gnu" means manylinux_2_17 (glibc 2.17, CentOS 7), which no Python 3.13 system Home
# Assistant supports still has; numpy, dlib-bin and zxing-cpp publish manylinux_2_28 wheels only for 3.13/3.14. So
# the glibc columns are resolved for <arch>-manylinux_2_28 (glibc 2.28: Debian 10, Ubuntu 20.04, RHEL 8 and newer).
# The musl columns use uv's <arch>-unknown-linux-musl, i.e. musllinux_1_2 (Alpine 3.13 and newer).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV="${UV:-$ROOT/.venv/bin/uv}"

REQUIRED=(
    "pymodbus>=3.8.3,<4"
    "zeroconf>=0.146"
    "cryptography>=44"
    "numpy>=2.2"
    "Pillow>=11.1"
    "segno>=1.6"
    "aiomqtt>=2.5.1,<3"
    "dlib-bin>=20.0.1"
    "face-recognition-models>=0.3.0"
    "aiohttp>=3.11.16"
)
OPTIONAL=(
    "zxing-cpp>=2.2"
)
SDIST_OK=(face-recognition-models)  # pure data: its sdist builds on any platform without a compiler
PLATFORMS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
PYTHONS=()
CONSTRAINTS=()
GLIBC=2_28

while (($#)); do
    case "$1" in
        --python) PYTHONS+=("${2:?--python needs a version}"); shift 2 ;;
        --constraint) CONSTRAINTS+=(--constraint "${2:?--constraint needs a file}"); shift 2 ;;
        --glibc) GLIBC="${2:?--glibc needs a level like 2_28}"; shift 2 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
((${#PYTHONS[@]})) || PYTHONS=(3.13 3.14)
[[ -x "$UV" ]] || { echo "uv not found at $UV (set UV=...)" >&2; exit 2; }
[[ "$GLIBC" =~ ^2_[0-9]+$ ]] || { echo "--glibc wants a level like 2_28, got $GLIBC" >&2; exit 2; }

# The project's own [tool.uv] settings (overrides, config-settings) must not colour the answer.
export UV_NO_CONFIG=1
NO_BINARY=()
for name in "${SDIST_OK[@]}"; do NO_BINARY+=(--no-binary "$name"); done

target_of() {  # the --python-platform uv is given for a column
    case "$1" in
        *-unknown-linux-gnu) echo "${1%%-*}-manylinux_$GLIBC" ;;
        *) echo "$1" ;;
    esac
}

label_of() {  # a short column label: "x86_64 glibc 3.13"
    local arch="${1%%-*}" libc=glibc
    [[ "$1" == *musl ]] && libc=musl
    echo "$arch $libc $2"
}

name_of() {  # the normalized project name of a requirement: "Pillow>=11.1" -> "pillow"
    local name="${1%%[<>=!~;[ ]*}"
    name="${name,,}"
    echo "${name//[_.]/-}"
}

is_sdist_ok() {
    local name
    for name in "${SDIST_OK[@]}"; do [[ "$1" == "$name" ]] && return 0; done
    return 1
}

# resolve TARGET PYTHON OUT ERR [extra uv flags...] < requirements: uv's exit status; pins in OUT, messages in ERR.
resolve() {
    local target="$1" python="$2" out="$3" err="$4"
    shift 4
    "$UV" pip compile - --quiet --no-header --no-annotate --color never \
        --only-binary :all: "${NO_BINARY[@]}" "${CONSTRAINTS[@]}" \
        --python-platform "$target" --python-version "$python" "$@" >"$out" 2>"$err"
}

# A failed resolution must be an unsatisfiable one; anything else (network, index errors) aborts the run.
unsatisfiable_or_abort() {
    grep -q "No solution found" "$1" && return 0
    echo "uv failed for another reason than a missing wheel:" >&2
    cat "$1" >&2
    return 3
}

# cell REQUIREMENT TARGET PYTHON DIR: prints the cell text.
cell() {
    local req="$1" target="$2" python="$3" dir="$4" name version
    name="$(name_of "$req")"
    if echo "$req" | resolve "$target" "$python" "$dir/out" "$dir/err"; then
        version="$(sed -n "s/^$name==//p" "$dir/out")"
        if is_sdist_ok "$name"; then echo "sdist $version"; else echo "wheel $version"; fi
        return 0
    fi
    unsatisfiable_or_abort "$dir/err" || return 3
    if echo "$req" | resolve "$target" "$python" "$dir/out" "$dir/err" --no-binary "$name"; then
        echo "sdist only $(sed -n "s/^$name==//p" "$dir/out")"
    elif echo "$req" | resolve "$target" "$python" "$dir/out" "$dir/err" --no-deps; then
        echo "no dep wheel"
    else
        unsatisfiable_or_abort "$dir/err" || return 3
        echo "missing"
    fi
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

COLUMNS_=()
for platform in "${PLATFORMS[@]}"; do
    for python in "${PYTHONS[@]}"; do COLUMNS_+=("$platform|$python"); done
done

# One background job per column (uv's cache is safe to share); each writes one file per row.
column() {
    local index="$1" platform="${2%|*}" python="${2#*|}" target row=0 req dir
    target="$(target_of "$platform")"
    dir="$WORK/$index"
    mkdir -p "$dir"
    for req in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do
        cell "$req" "$target" "$python" "$dir" >"$dir/row$row" || return 3
        row=$((row + 1))
    done
    if printf '%s\n' "${REQUIRED[@]}" | resolve "$target" "$python" "$dir/out" "$dir/err"; then
        echo "ok ($(grep -c '==' "$dir/out") pkgs)" >"$dir/together"
    else
        unsatisfiable_or_abort "$dir/err" || return 3
        echo "FAILS" >"$dir/together"
    fi
}

pids=()
for i in "${!COLUMNS_[@]}"; do
    column "$i" "${COLUMNS_[$i]}" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=3; done
((status == 0)) || { echo "wheel matrix incomplete: uv did not answer every question" >&2; exit 3; }

# ---- the table (Markdown, readable as is) -----------------------------------------------------------------------
echo "Wheel matrix, $(date -u +%Y-%m-%d), $("$UV" --version), index ${UV_INDEX_URL:-${UV_DEFAULT_INDEX:-https://pypi.org/simple}}"
echo "glibc columns resolved for <arch>-manylinux_$GLIBC, musl columns for <arch>-unknown-linux-musl (musllinux_1_2)"
((${#CONSTRAINTS[@]})) && echo "constraints: ${CONSTRAINTS[*]}"
echo
header="| package |"
rule="|---|"
for spec in "${COLUMNS_[@]}"; do
    header+=" $(label_of "${spec%|*}" "${spec#*|}") |"
    rule+="---|"
done
echo "$header"
echo "$rule"

failed=()
row=0
for req in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do
    optional=0
    ((row >= ${#REQUIRED[@]})) && optional=1
    line="| \`$req\`$( ((optional)) && echo " (optional)") |"
    for i in "${!COLUMNS_[@]}"; do
        text="$(cat "$WORK/$i/row$row")"
        line+=" $text |"
        if ((!optional)) && [[ "$text" != wheel* && "$text" != sdist\ [0-9]* ]]; then
            failed+=("$req on $(label_of "${COLUMNS_[$i]%|*}" "${COLUMNS_[$i]#*|}"): $text")
        fi
    done
    echo "$line"
    row=$((row + 1))
done
line="| all required together |"
for i in "${!COLUMNS_[@]}"; do
    text="$(cat "$WORK/$i/together")"
    line+=" $text |"
    [[ "$text" == ok* ]] || failed+=("the required set on $(label_of "${COLUMNS_[$i]%|*}" "${COLUMNS_[$i]#*|}")")
done
echo "$line"
echo
echo "per cell: uv pip compile - --only-binary :all: ${NO_BINARY[*]} --python-platform <target> --python-version <python>${CONSTRAINTS[*]:+ ${CONSTRAINTS[*]}}"

if ((${#failed[@]})); then
    echo
    echo "required packages without a wheel:"
    printf '  %s\n' "${failed[@]}"
    exit 1
fi
echo "every required package resolves to wheels on every platform (optional ones are as shown)"
