"""``archir detect-fusion --target ort-cpu``: which op pairs the runtime fuses, by timing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def configure_detect_fusion(p: argparse.ArgumentParser) -> None:
    from archir.backends.profile.detect import DEFAULT_OPS, OPS

    p.description = ("detect which op pairs a runtime fuses by timing A, B and A->B "
                     "(fused iff T_A + T_B - T_AB > 0.5 min(T_A, T_B))")
    p.add_argument("--target", required=True, help="a measurable target (ort-cpu)")
    p.add_argument("--out", default="rules.json", help="rule file to write (nn-Meter format)")
    p.add_argument("--store", help="measurements, JSON lines, resumable (default: OUT.jsonl)")
    p.add_argument("--ops", default=",".join(DEFAULT_OPS), help=f"op classes to pair, from {', '.join(OPS)}")
    p.add_argument("--hw", type=int, default=28)
    p.add_argument("--cin", type=int, default=64)
    p.add_argument("--cout", type=int, default=128)
    p.add_argument("--repeats", type=int, default=30)
    p.set_defaults(run=_detect)


def _detect(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from archir.backends.profile.detect import Shape, Store, detect
    from archir.passes.targets.registry import target_for_cli

    target = target_for_cli(args.target, "archir detect-fusion")
    if target is None:
        return 2
    if target.family != "onnxruntime-cpu":
        print(f"archir detect-fusion: only onnxruntime targets can be measured here; "
              f"'{target.name}' runs on {target.runtime} ({target.device})", file=sys.stderr)
        return 2
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    out = Path(args.out)
    store = Store(Path(args.store) if args.store else out.with_suffix(".jsonl"))
    seen: set[str] = set()
    with Progress() as bar:
        task = bar.add_task("measuring", total=3 * len(ops) * len(ops))

        def step(key: str) -> None:
            bar.update(task, advance=1, description=key[:40])
            seen.add(key)

        rules = detect(ops, store, Shape(args.hw, args.cin, args.cout), repeats=args.repeats, progress=step)
    rules["meta"]["target"] = target.name
    out.write_text(json.dumps(rules, indent=1, sort_keys=True) + "\n")
    fused = sorted(k[3:] for k, v in rules.items() if k.startswith("BF_") and v["obey"])
    print(f"wrote {out}: {len(fused)} of {len(ops) ** 2} pairs fuse: {', '.join(fused)}")
    return 0
