#!/usr/bin/env bash
# Re-run every registered method (and variant) on the full shapes eval split, then re-render
# leaderboards/shapes/ from the results. Usage: scripts/leaderboard.sh [METHOD ...]
# With no arguments, every registered method and every variant runs (a few minutes each on 2 CPU cores).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${VBENCH_LITE_RUNS:-runs}
if [ "$#" -gt 0 ]; then
  methods=("$@")
else
  mapfile -t methods < <(python - <<'PY'
import vbench_lite
from vbench_lite.registries import METHODS
for name in METHODS.names():
    cls = METHODS.get(name)
    print(name)
    for variant in sorted(getattr(cls, "variants", {})):
        print(f"{name}:{variant}")
PY
)
fi
for m in "${methods[@]}"; do
  echo "== $m"
  # 1 warm-up and 9 timed runs: with the default 3 cold runs, two idle re-runs of the same commit
  # gave tpdiff 1.53x and 1.06x (shared cloud vCPUs); latency is the one column that needs repeats.
  python -m vbench_lite run --method "$m" --out "$out" --warmup 1 --latency-repeats 9
done
python -m vbench_lite leaderboard --results "$out" --suite shapes --out leaderboards/shapes
python scripts/update_readme_table.py --suite shapes
