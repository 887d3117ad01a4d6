#!/usr/bin/env bash
# The README's test command: set-up (idempotent), then the whole test suite.
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="${DKD_VENV:-$ROOT/.venv}/bin/python"
# pytest's exit status is the script's: 5 (no test collected) fails too.
exec "$PY" -m pytest tests "$@"
