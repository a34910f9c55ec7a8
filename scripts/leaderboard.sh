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
  python -m vbench_lite run --method "$m" --out "$out"
done
python -m vbench_lite leaderboard --results "$out" --suite shapes --out leaderboards/shapes
python scripts/update_readme_table.py --suite shapes
