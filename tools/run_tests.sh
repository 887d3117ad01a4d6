#!/usr/bin/env bash
# The README's test command: set-up (idempotent), then the whole test suite.
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="${DKD_VENV:-$ROOT/.venv}/bin/python"
set +e
"$PY" -m pytest tests "$@"
rc=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here.
exit $rc
