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
  # The cost profile times each method's batch-16 generation in 9 pairs with the baseline's
  # (A B, B A, ... after 1 warm-up of each, same prompts, seeds and threads, one process): the
  # Speedup column is the ratio of medians with a bootstrap 95% interval over those pairs
  # (vbench_lite/profile/paired.py), marked unstable when load average, run-queue wait or a
  # wall/CPU-time disagreement says the machine was shared. Two separate, unpaired timings of the
  # same commit gave tpdiff 1.53x and 1.06x; the baseline's own row is the reference (no pairs).
  python -m vbench_lite run --method "$m" --out "$out" --warmup 1 --latency-repeats 9
done
# The paired speedups alone, with their intervals, load and stability (as the leaderboard reads them):
python - "$out" <<'PY'
import sys
from vbench_lite.leaderboard import collect, fields
for run in collect.latest_eligible(collect.load_runs(sys.argv[1], suite="shapes")):
    rec = fields.paired_speedup(run.result)
    if rec:
        lo, hi = rec["interval"]
        flag = "UNSTABLE: " + "; ".join(rec["unstable_reasons"]) if rec["unstable"] else "stable"
        print(f"{run.method_id}: {rec['speedup']:.2f}x [{lo:.2f}, {hi:.2f}] vs {rec['reference']}, "
              f"{rec['pairs']} pairs, CPU-time {rec['cpu_speedup']:.2f}x, {rec['threads']} threads, "
              f"load {rec['load_before']} -> {rec['load_after']}; {flag}")
PY
# --with-videos: the HTML page's sample previews from the runs' videos (git-ignored leaderboards/shapes/samples/)
python -m vbench_lite leaderboard --results "$out" --suite shapes --out leaderboards/shapes --with-videos
python scripts/update_readme_table.py --suite shapes
