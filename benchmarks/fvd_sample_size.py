"""How many eval videos FVD needs to separate a 15% difference (TPDiff's quality target, issue 24).

Computed from committed numbers only (no generation): each method's FVD and bootstrap std on the
256-video eval split (``leaderboards/shapes/results``) and the suite's noise floor. The bootstrap
std of a plug-in statistic shrinks as 1/sqrt(N) to first order, so the std at N videos is
``std_256 * sqrt(256 / N)``; the ratio ``r = FVD_m / FVD_b`` of two independent generated sets has
relative std ``sqrt((s_m / F_m)^2 + (s_b / F_b)^2)`` (delta method). Printed per method:

- the ratio with its 95% interval at 256 videos, and whether it excludes 1.15 (the target);
- N for the 95% interval of the ratio to exclude 1.15 if the true ratio is the measured one;
- N to tell a true 15% difference from none at 95% confidence with 80% power
  (``(1.96 + 0.84)^2 * var_N(r) <= 0.15^2``).

Caveats printed with the numbers: FVD also has an N-dependent bias (the trace term of the
generated covariance), equal for two methods only when both are measured on the same N; the
eval split holds 256 videos, so a larger N means a larger split (a new suite version) or the
validation split added; and the bootstrap resamples the generated set only, not the training
seed, whose spread is a second noise source not measured here.

    python benchmarks/fvd_sample_size.py [--results leaderboards/shapes/results]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from tabulate import tabulate

from vbench_lite.leaderboard import collect, fields

Z95, Z80 = 1.959964, 0.841621
TARGET = 1.15


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=Path("leaderboards/shapes/results"))
    ap.add_argument("--reference", default="baseline")
    args = ap.parse_args()
    runs = {r.method_id: r.result for r in collect.latest_eligible(collect.load_runs(args.results, suite="shapes"))}
    base = runs[args.reference]
    fb, sb, n = fields.metric_value(base, "fvd"), fields.metric_std(base, "fvd"), base.num_videos
    print(f"{args.reference}: FVD {fb:.1f} ± {sb:.1f} (bootstrap std, {n} eval videos)")
    floors = collect.noise_floor_from_runs(list(collect.latest_eligible(collect.load_runs(args.results, suite="shapes"))))
    for f in floors:
        if f.metric == "fvd":
            print(f"noise floor: FVD {f.mean:.1f} ± {f.std:.1f} between disjoint real draws of {n} videos")
    rows = []
    for mid, run in sorted(runs.items()):
        if mid == args.reference:
            continue
        fm, sm = fields.metric_value(run, "fvd"), fields.metric_std(run, "fvd")
        if fm is None or sm is None:
            continue
        r = fm / fb
        rel = math.hypot(sm / fm, sb / fb)
        sr = r * rel  # std of the ratio at n videos
        lo, hi = r - Z95 * sr, r + Z95 * sr
        gap = abs(r - TARGET)
        n_exclude = n * (Z95 * sr / gap) ** 2 if gap > 0 else math.inf
        # a true ratio of 1.15 against 1.00: std of the ratio near 1 scales with the same relative stds
        n_power = n * ((Z95 + Z80) * rel / (TARGET - 1)) ** 2
        rows.append((mid, f"{fm:.1f} ± {sm:.1f}", f"{r:.3f}", f"[{lo:.2f}, {hi:.2f}]",
                     "yes" if lo > TARGET or hi < TARGET else "no", f"{n_exclude:,.0f}", f"{n_power:,.0f}"))
    print(tabulate(rows, headers=("method", "FVD", f"FVD / {args.reference}", f"95% interval @ {n}",
                                  f"excludes {TARGET}?", f"N to exclude {TARGET}", "N for 15% at 80% power"),
                   disable_numparse=True))
    print(f"\nassumes std ∝ 1/sqrt(N) from the {n}-video bootstrap; both methods on the same N (FVD's bias "
          "depends on N); the training seed's spread is not included.")


if __name__ == "__main__":
    main()
