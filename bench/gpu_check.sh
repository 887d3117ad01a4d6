#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py, whose docstring says what it needs and
# checks): CUDA/CPU parity of the losses and masks, the rotated FCOS configs
# trained on CUDA with upstream's RotatedIoULoss, a DKD step at 1024 px.
#   bash bench/gpu_check.sh [--out FILE] [options of bench/gpu_check.py]
# Without a CUDA device it prints a SKIP line and exits 0.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${DKD_VENV:-$ROOT/.venv}/bin/python"
# DKD_USE_CURRENT_PYTHON set-ups (e.g. a conda env with a CUDA torch): no venv.
[[ -x "$PY" ]] || PY="$(command -v python3 || command -v python)"
# bench is not installed: a module of the root, where this runs.
exec "$PY" -m bench.gpu_check "$@"
