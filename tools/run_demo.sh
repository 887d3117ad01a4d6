#!/usr/bin/env bash
# The README's main command: set-up (idempotent), then a real teacher ->
# student distillation on the embedded data, ending with a DOTA mAP table.
#   bash tools/run_demo.sh [--quick] [options of bench/demo.py]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
# A module of bench/, which is not installed: run from the root.
exec "${DKD_VENV:-$ROOT/.venv}/bin/python" -m bench.demo "$@"
