"""How the IR core scales: build, print, parse and verify modules of 1k, 10k and 100k ops.

A script, not a test: ``python benchmarks/ir_scaling.py [--sizes 1000,10000,100000]``.
The modules are a realistic CNN mix (conv/bn/relu residual blocks, every fourth block a
split/conv/concat block) with a symbolic batch dim. Each stage's time is the median of a few
repeats (one run at the largest size); linear scaling shows as a 100k/10k time ratio near 10.
Times are this process's CPU time, so other load on a shared machine does not count.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import archir
from archir import GraphBuilder, Module, TensorType

# Throughput aims on one core, in ops per second.
AIMS = {"print": 50_000, "parse": 10_000, "verify": 100_000}
STAGES = ("build", "print", "parse", "verify")


def build(num_ops: int, channels: int = 32) -> Module:
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 32, 32)), "image")
    x = b.relu(b.batch_norm(b.conv2d(x, out_channels=channels, kernel=3, padding=1, name="stem")))
    block = 0
    while len(b.graph.ops) < num_ops - 3:
        if block % 4 == 3:
            left, right = b.split(x, axis=1, sizes=[channels // 2, channels // 2])
            left = b.relu(b.conv2d(left, out_channels=channels // 2, kernel=1))
            right = b.relu(b.conv2d(right, out_channels=channels // 2, kernel=3, padding=1,
                                    groups=channels // 2))
            x = b.concat(left, right, axis=1, name=f"block{block}.cat")
        else:
            y = b.relu(b.batch_norm(b.conv2d(x, out_channels=channels, kernel=3, padding=1,
                                             bias=False, name=f"block{block}.conv1")))
            y = b.batch_norm(b.conv2d(y, out_channels=channels, kernel=3, padding=1, bias=False))
            x = b.relu(b.add(y, x, name=f"block{block}.residual"))
        block += 1
    b.ret(b.linear(b.flatten(b.global_avg_pool(x)), out_features=10))
    return Module([b.graph])


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()  # also with the GC disabled: each repeat starts from the same heap
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def measure(num_ops: int, repeats: int) -> tuple[int, dict[str, float]]:
    seconds: dict[str, float] = {}
    seconds["build"], module = timed(lambda: build(num_ops), repeats)
    seconds["print"], text = timed(lambda: archir.to_text(module), repeats)
    seconds["parse"], parsed = timed(lambda: archir.parse(text, verify=False), repeats)
    seconds["verify"], _ = timed(lambda: archir.verify(parsed), repeats)
    if archir.to_text(parsed) != text:
        raise SystemExit(f"round trip failed at {num_ops} ops")
    return module.num_ops, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-gc", action="store_true",
                    help="disable Python's cyclic GC while timing, to see its share at 100k ops")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.no_gc:
        gc.disable()
    print(f"CPU time of one process; cyclic GC {'off' if args.no_gc else 'on'}; median of "
          f"{args.repeats} runs (one run at >= 100k ops)\n")

    results = {}
    for n in sizes:
        results[n] = measure(n, 1 if n >= 100_000 else args.repeats)

    print(f"{'ops':>8} | " + " | ".join(f"{s + ' ops/s':>14}" for s in STAGES))
    print("-" * 9 + "+" + "+".join("-" * 16 for _ in STAGES))
    for n in sizes:
        count, seconds = results[n]
        print(f"{count:>8} | " + " | ".join(f"{count / seconds[s]:>14,.0f}" for s in STAGES))

    if 10_000 in results and 100_000 in results:
        (c10, s10), (c100, s100) = results[10_000], results[100_000]
        ratios = " | ".join(f"{s}: {s100[s] / s10[s]:.1f}" for s in STAGES)
        print(f"\ntime ratio {c100}/{c10} ops (linear ~ {c100 / c10:.1f}): {ratios}")

    largest = max(sizes)
    count, seconds = results[largest]
    print(f"\naims at {count} ops (one core):")
    failed = False
    for stage, aim in AIMS.items():
        rate = count / seconds[stage]
        ok = rate >= aim
        failed |= not ok
        print(f"  {stage:<7} {rate:>10,.0f} ops/s  aim >= {aim:,}  {'PASS' if ok else 'FAIL'}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
