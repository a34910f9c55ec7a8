"""Profiling overhead: ``measure_latency`` (FLOP counter off) against a plain timing loop.

Target: the two medians agree within 5%. Blocks of both are interleaved so machine-load drift hits
both alike. Also prints, for information, how much slower a run is under the FLOP counter.

    python benchmarks/profile_overhead.py --threads 1          # a conv + attention workload
    python benchmarks/profile_overhead.py --method baseline    # one registered method's generate()

On a shared 2-core machine one thread gives the steadiest signal; a long run goes under the lock:
``flock /tmp/vbench_train.lock python benchmarks/profile_overhead.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vbench_lite.profile import count_flops, measure_latency, stage


class Block(nn.Module):
    """A space-time block: 3D conv, norm, spatial self-attention, MLP."""

    def __init__(self, c: int = 48, heads: int = 4) -> None:
        super().__init__()
        self.conv, self.norm = nn.Conv3d(c, c, 3, padding=1), nn.GroupNorm(8, c)
        self.qkv, self.proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
        self.mlp = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        x = x + F.silu(self.norm(self.conv(x)))
        tok = x.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, c)
        q, k, v = self.qkv(tok).reshape(b * t, h * w, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        tok = tok + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b * t, h * w, c))
        tok = tok + self.mlp(tok)
        return tok.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)


def block_workload(steps: int = 2) -> Callable[[], object]:
    torch.manual_seed(0)
    net = nn.Sequential(Block(), Block()).eval()
    x = torch.randn(1, 48, 4, 16, 16)

    @torch.inference_mode()
    def run() -> torch.Tensor:
        with stage("denoise"):
            y = x
            for _ in range(steps):
                y = net(y)
        return y

    return run


def method_workload(name: str, batch: int) -> Callable[[], object]:
    import vbench_lite
    from vbench_lite.spec import GenerationSpec

    adapter = vbench_lite.load_method(name)
    adapter.load("cpu")
    items = vbench_lite.load_suite("shapes").items("eval", batch, 0)
    prompts, seeds = [it.prompt for it in items], [it.seed for it in items]
    return lambda: adapter.generate(prompts, seeds, GenerationSpec())


def plain_loop(fn: Callable[[], object], repeats: int) -> list[float]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", help="a registered method (default: a built-in conv+attention workload)")
    ap.add_argument("--batch", type=int, default=1, help="videos per generate() call with --method")
    ap.add_argument("--rounds", type=int, default=30, help="interleaved rounds")
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per block (at least 2)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    fn = method_workload(args.method, args.batch) if args.method else block_workload()
    for _ in range(2):
        fn()  # warm-up
    # Rounds of (plain loop, measure_latency) with the order alternating, so load drift and
    # "who goes first" cancel; the per-round ratio's median is the robust figure on a busy machine.
    plain, harness, ratios = [], [], []
    for r in range(args.rounds):
        first_plain = r % 2 == 0
        if first_plain:
            p_runs = plain_loop(fn, args.repeats)
        h_runs = list(measure_latency(fn, warmup=0, repeats=args.repeats).runs_s)
        if not first_plain:
            p_runs = plain_loop(fn, args.repeats)
        plain += p_runs
        harness += h_runs
        ratios.append(statistics.mean(h_runs) / statistics.mean(p_runs))
        print(f"round {r + 1}: plain {statistics.mean(p_runs):.4f} s  measure_latency "
              f"{statistics.mean(h_runs):.4f} s  ratio {ratios[-1]:.3f}", flush=True)
    p, h = statistics.median(plain), statistics.median(harness)
    ratio = statistics.median(ratios)
    t0 = time.perf_counter()
    count_flops(fn)  # the first count in a process pays one-time imports and set-up
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = count_flops(fn)
    counted = time.perf_counter() - t0
    print(f"threads {torch.get_num_threads()}; workload {args.method or 'conv+attention blocks'}")
    print(f"median plain loop      {p:.4f} s over {len(plain)} runs")
    print(f"median measure_latency {h:.4f} s over {len(harness)} runs (ratio of medians {h / p:.4f})")
    print(f"median per-round ratio measure_latency / plain = {ratio:.4f} "
          f"(target within 5%: {'PASS' if abs(ratio - 1) <= 0.05 else 'FAIL'})")
    print(f"for information: one run under the FLOP counter {counted:.4f} s = {counted / p:.2f}x plain "
          f"({report.total / 1e9:.3f} GFLOP); the first count in a process took {first:.2f} s")
    return 0 if abs(ratio - 1) <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
