"""archir's main job, end to end (`make demo`)."""

from __future__ import annotations

from pathlib import Path

import archir

EXAMPLES = Path(__file__).parent


def main() -> None:
    module = archir.load(EXAMPLES / "mobilenet_v2_small.air")
    print(module, end="")
    params = sum(
        count
        for _, op in module.walk()
        if op.opdef.params
        for count in _sizes(op)
    )
    print(f"\n# {module.num_ops} ops, {params:,} params, hash {archir.structural_hash(module)[:12]}")


def _sizes(op):
    from math import prod


    shapes = op.opdef.params(tuple(v.type for v in op.operands), op.attrs)
    return [prod(s) for s in shapes.values()]


if __name__ == "__main__":
    main()
