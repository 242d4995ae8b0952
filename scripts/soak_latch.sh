#!/usr/bin/env bash
# Soak the Modbus latch test under CPU load: run it N times (default 200) while 2 busy processes hog
# the CPU, and stop at the first failure.
#
#   scripts/soak_latch.sh [RUNS] [PYTEST_NODE]
#
# PYTHON (default: .venv/bin/python, else python3) runs pytest with this checkout first on the path.
set -euo pipefail

runs=${1:-200}
node=${2:-tests/edge/alarms/test_modbus_component.py::test_latch_variants_report_every_tap}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-}
if [[ -z $python ]]; then
    if [[ -x $root/.venv/bin/python ]]; then python=$root/.venv/bin/python; else python=python3; fi
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer, not '$runs'" >&2; exit 2; }

hogs=()
stop_hogs() {
    for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in 1 2; do
    ( while :; do :; done ) &
    hogs+=($!)
done

cd "$root"
log=$(mktemp -t soak_latch.XXXXXX)
for ((i = 1; i <= runs; i++)); do
    if ! PYTHONPATH=$root "$python" -m pytest -q -p no:cacheprovider "$node" >"$log" 2>&1; then
        echo "run $i of $runs FAILED (under 2 CPU hogs):"
        cat "$log"
        echo "passed $((i - 1)) runs in a row before the failure"
        exit 1
    fi
    summary=$(tail -n 1 "$log")
    echo "run $i/$runs: ${summary//=/}"
done
rm -f "$log"
echo "passed $runs runs in a row under 2 CPU hogs"
