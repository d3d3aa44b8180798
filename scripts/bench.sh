#!/usr/bin/env bash
# Run every benchmark in benchmarks/; each measures the project and its baseline side by side and prints ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for bench in benchmarks/bench_*.py; do
    echo "== $bench"
    python "$bench" "$@" || status=1
done
exit $status
