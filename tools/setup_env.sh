#!/usr/bin/env bash
# Idempotent set-up of dkd_mm's pinned stack in a virtual environment.
#
#   bash tools/setup_env.sh          # creates/updates $DKD_VENV (default .venv)
#
# What it does, and why:
#  * a venv with Python 3.11, setuptools>=77,<81 held by a constraints file in
#    every pip call (torch 2.13 needs >=77; mmcv/mmengine import pkg_resources,
#    gone from 81);
#  * torch 2.13.0 (the CPU wheel where no CUDA build is installed);
#  * mmcv 2.0.1 WITH compiled ops, built from its sdist with -std=c++17 (its
#    setup.py passes -std=c++14, which torch 2.13's headers reject).  The wheel
#    is cached in $DKD_CACHE (default ~/.cache/dkd_mm/wheels), keyed by mmcv,
#    torch and Python versions, so later set-ups install it in seconds.  An
#    already importable mmcv 2.0.x with ops is kept as it is;
#    The sdist comes from `pip download`, so from whatever index the user's
#    pip settings name (pip.conf, PIP_INDEX_URL, ...), and must match the
#    sha256 below;
#  * requirements.txt: mmengine 0.10.7, mmdet 3.1.0, mmrotate 1.0.0rc1, the
#    test, benchmark and lint tools; then dkd_mm (editable);
#  * a check that mmcv's rotated ops import, with a clear message if not.
# Set DKD_USE_CURRENT_PYTHON=1 to install into the running interpreter instead
# of a venv (e.g. inside a conda env with a CUDA torch).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DKD_VENV:-$ROOT/.venv}"
CACHE="${DKD_CACHE:-$HOME/.cache/dkd_mm/wheels}"
PYTHON_BIN="${DKD_PYTHON:-python3.11}"
TORCH_VERSION=2.13.0
MMCV_VERSION=2.0.1
MMCV_SHA256=2b9b2c23795b3f43cf2ebcaca46552d9b4ef7e903eacdcf7c08ee15195044071
CONSTRAINTS="$ROOT/requirements/constraints.txt"

log() { printf '[setup_env] %s\n' "$*" >&2; }

if [[ "${DKD_USE_CURRENT_PYTHON:-0}" == 1 ]]; then
  PY="$(command -v python3)"
else
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtual environment $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  PY="$VENV/bin/python"
fi
PIP=("$PY" -m pip install -q -c "$CONSTRAINTS")

stamp="$VENV/.dkd_setup_stamp"
want_stamp="$(cat "$ROOT/requirements.txt" "$ROOT"/requirements/*.txt "$ROOT/setup.py" \
  "$ROOT/tools/setup_env.sh" | sha256sum | cut -c1-16)"
if [[ "${DKD_USE_CURRENT_PYTHON:-0}" != 1 && -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]] \
  && "$PY" -c "import dkd_mm" 2>/dev/null; then
  log "environment up to date ($VENV)"
  exit 0
fi

log "base tools"
"${PIP[@]}" --upgrade pip "setuptools>=77,<81" wheel ninja

if ! "$PY" -c "import torch" 2>/dev/null; then
  log "installing torch (CPU wheel unless a CUDA build is already present)"
  "${PIP[@]}" "torch==${TORCH_VERSION}" "numpy<2"
fi
"${PIP[@]}" "numpy<2"

# fetch_mmcv_sdist DEST: mmcv's sdist from the index of the user's pip
# settings, checked against MMCV_SHA256, moved to DEST.
fetch_mmcv_sdist() {
  local part
  part="$(mktemp -d)"
  if ! "$PY" -m pip download -q --no-binary :all: --no-deps \
      --no-build-isolation -d "$part" "mmcv==${MMCV_VERSION}"; then
    rm -rf "$part"
    log "pip could not download the mmcv ${MMCV_VERSION} sdist (check your pip index settings)"
    return 1
  fi
  if ! echo "$MMCV_SHA256  $part/mmcv-${MMCV_VERSION}.tar.gz" | sha256sum -c --quiet; then
    rm -rf "$part"
    log "mmcv-${MMCV_VERSION}.tar.gz from your pip index does not have sha256 $MMCV_SHA256"
    return 1
  fi
  mv "$part/mmcv-${MMCV_VERSION}.tar.gz" "$1"
  rm -rf "$part"
}

mmcv_has_ops() {
  "$PY" - <<'EOF' 2>/dev/null
import mmcv
from mmcv.ops import nms_rotated, box_iou_rotated, RoIAlignRotated  # noqa
assert mmcv.__version__.startswith('2.0.'), mmcv.__version__
EOF
}

if mmcv_has_ops; then
  log "mmcv with compiled ops already importable: keeping it"
else
  key="$("$PY" -c 'import sys, torch; v = torch.__version__.replace("+", "_"); print("torch%s-cp%d%d" % (v, *sys.version_info[:2]))')"
  wheel_dir="$CACHE/mmcv-${MMCV_VERSION}-$key"
  mkdir -p "$wheel_dir"
  if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv ${MMCV_VERSION} with ops for $key (about 8 minutes on 2 cores; cached afterwards in $wheel_dir)"
    build="$(mktemp -d)"
    trap 'rm -rf "$build"' EXIT
    sdist="$CACHE/mmcv-${MMCV_VERSION}.tar.gz"
    if [[ ! -f "$sdist" ]] || ! echo "$MMCV_SHA256  $sdist" | sha256sum -c --quiet 2>/dev/null; then
      fetch_mmcv_sdist "$sdist"
    fi
    tar -xzf "$sdist" -C "$build"
    # The one change: the C++ standard torch 2.13 requires (mmcv 2.1.0 did the same).
    sed -i 's/-std=c++14/-std=c++17/g' "$build/mmcv-${MMCV_VERSION}/setup.py"
    "${PIP[@]}" addict packaging Pillow pyyaml yapf "opencv-python<4.12"
    (cd "$build/mmcv-${MMCV_VERSION}" && \
      MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" "$PY" -m pip wheel -c "$CONSTRAINTS" \
        --no-build-isolation --no-deps -w "$wheel_dir" . )
  fi
  log "installing cached mmcv wheel from $wheel_dir"
  "${PIP[@]}" "opencv-python<4.12" "$wheel_dir"/mmcv-*.whl
fi

log "OpenMMLab packages, test, benchmark and lint tools, and dkd_mm"
"${PIP[@]}" -r "$ROOT/requirements.txt"
"${PIP[@]}" --no-build-isolation --no-deps -e "$ROOT"

if ! "$PY" - <<'EOF'
import dkd_mm  # noqa: F401  (applies the compat shims first)
from dkd_mm.utils.env import check_mmcv_ops
check_mmcv_ops()
import mmrotate, mmdet, mmengine, mmcv, torch
print(f'[setup_env] torch {torch.__version__}, mmcv {mmcv.__version__} (ops ok), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmrotate {mmrotate.__version__}')
EOF
then
  log "the environment is incomplete: see the error above"
  exit 1
fi
[[ "${DKD_USE_CURRENT_PYTHON:-0}" == 1 ]] || echo "$want_stamp" > "$stamp"
