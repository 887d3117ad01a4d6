#!/usr/bin/env bash
# The README's test commands: set-up (idempotent), then the tests.
#   bash tools/run_tests.sh [pytest args]        the fast tier: every test
#       not marked `slow` (unit tests, one-step real detectors, two-iteration
#       trainings of the synthetic configs): the loop before a commit
#   bash tools/run_tests.sh --all [pytest args]  both tiers: the fast one and
#       the end-to-end runs marked `slow` (real-data configs at 1024 px, every
#       command of docs/getting_started.md, bench --quick runs, resume after
#       a kill, two-process training); what .ci/run runs
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TIER=(-m 'not slow')
if [[ "${1:-}" == --all ]]; then
    TIER=()
    shift
fi
bash tools/setup_env.sh
PY="${DKD_VENV:-$ROOT/.venv}/bin/python"
# pytest's exit status is the script's: 5 (no test collected) fails too.
exec "$PY" -m pytest tests ${TIER[@]+"${TIER[@]}"} "$@"
