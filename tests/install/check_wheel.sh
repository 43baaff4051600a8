#!/usr/bin/env bash
# The Python package installed two ways, each into a fresh venv, then used
# with no Go on PATH, no SOLTI_EXEC_LIBRARY or SOLTI_EXEC_SHIM, from an
# empty directory (so nothing is imported from the checkout):
#   1. the wheel from make wheel;
#   2. pip install bindings/python from the checkout (Go present while it
#      builds), which builds the library into the package.
#   tests/install/check_wheel.sh PYTHON DIST CHECKOUT
set -euo pipefail
python=${1:?usage: check_wheel.sh PYTHON DIST CHECKOUT}
dist=$(cd "${2:?}" && pwd)
checkout=$(cd "${3:?}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_wheel.sh: FAIL: $*" >&2; exit 1; }

smoke() { # NAME VENV
    mkdir -p "$work/empty"
    local out
    out=$(cd "$work/empty" && env -u SOLTI_EXEC_LIBRARY -u SOLTI_EXEC_SHIM -u PYTHONPATH \
        PATH=/usr/bin:/bin "$2/bin/python" -m solti_exec run -- echo hi 2>&1) \
        || { echo "$out" >&2; fail "$1: python -m solti_exec run -- echo hi failed"; }
    [ "$out" = hi ] || fail "$1: printed '$out', not 'hi'"
    local source
    source=$(cd "$work/empty" && env -u SOLTI_EXEC_LIBRARY PATH=/usr/bin:/bin "$2/bin/python" -c \
        'import solti_exec; print(solti_exec.load_library().source)')
    [ "$source" = bundled ] || fail "$1: the library came from '$source', not the package"
    echo "ok: $1: python -m solti_exec run -- echo hi printed hi (library bundled)"
}

wheel=$(ls "$dist"/solti_exec-*.whl | head -n 1)
[ -f "$wheel" ] || fail "no wheel in $dist"
# The listing is taken whole first: grep -q stops reading at its first match,
# and the listing's writer would then die of a broken pipe.
listing=$("$python" -m zipfile -l "$wheel")
grep -q 'solti_exec/_lib/libsolti_exec.so.0' <<<"$listing" || fail "the wheel lacks the library"
grep -q 'solti_exec/_lib/solti-exec-shim' <<<"$listing" || fail "the wheel lacks the shim"
"$python" -m venv "$work/wheel-venv"
env PATH=/usr/bin:/bin "$work/wheel-venv/bin/python" -m pip install -q --no-index --no-deps "$wheel"
smoke wheel "$work/wheel-venv"

# A venv that sees the system's setuptools and wheel, so nothing is fetched.
"$python" -m venv --system-site-packages "$work/src-venv"
"$work/src-venv/bin/python" -m pip install -q --no-index --no-deps --no-build-isolation "$checkout/bindings/python"
smoke "pip install bindings/python" "$work/src-venv"
