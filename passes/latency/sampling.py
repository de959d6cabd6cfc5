"""Kernel configurations to profile: the shapes real models use, then refinement around errors.

``collect`` lowers nothing itself: it takes modules (torchvision models, search-space samples,
already in IR), compiles each for the target (fusion + kernel selection) and keeps every
distinct kernel configuration with how often and where it occurs. ``perturb`` is nn-Meter's
fine-grained step done on IR: it keeps the kernel's structure, kernel sizes and strides,
redraws its channel widths in [0.5·C, 1.2·C) (one new width per distinct old width, so a
residual add or a depthwise conv stays consistent) and sometimes its feature-map size, and
re-runs the target's kernel selector on the result.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from archir.builder import GraphBuilder
from archir.errors import VerifyError
from archir.ir import Graph, Kernel, Module, Operation, Value
from archir.opdef import InferError
from archir.passes.latency.kernel_module import KernelConfig, kernel_configs, op_configs
from archir.passes.targets import compile_for, get_target
from archir.passes.targets.anchor import kernel_type
from archir.types import TensorType
from archir.verifier import verify


@dataclass
class CorpusEntry:
    config: KernelConfig
    count: int = 0
    labels: set[str] = field(default_factory=set)


def compile_model(module: Module, target: str) -> Module:
    from archir.passes.manager import run_pipeline

    return compile_for(run_pipeline(module, "canonicalize"), target)


def collect(models: Iterable[tuple[str, Module]], target: str, *,
            ops: bool = False) -> dict[str, CorpusEntry]:
    """Distinct kernel (or, with ``ops``, single-op) configurations of compiled ``models``.

    ``models`` may already be compiled for ``target`` (their kernels are used as they are)."""
    corpus: dict[str, CorpusEntry] = {}
    for label, module in models:
        if not any(op.kernel is not None for _, op in module.walk()):
            module = compile_model(module, target)
        configs = op_configs(module) if ops else kernel_configs(module)
        for cfg in configs:
            entry = corpus.get(cfg.key)
            if entry is None:
                entry = corpus[cfg.key] = CorpusEntry(cfg)
            entry.count += 1
            entry.labels.add(label)
    return corpus


def _channel_axis(t: TensorType, conv1d: bool) -> int | None:
    if t.rank == 4 or (t.rank == 3 and conv1d):
        return 1
    if t.rank in (2, 3):
        return t.rank - 1
    return None


def _new_width(c: int, rng: random.Random, lo: float, hi: float) -> int:
    w = max(1, int(c * rng.uniform(lo, hi)))
    if c % 8 == 0 and rng.random() < 0.7:  # real models mostly keep multiples of 8
        w = max(8, round(w / 8) * 8)
    return w


def perturb(cfg: KernelConfig, rng: random.Random, *, lo: float = 0.5, hi: float = 1.2,
            spatial: float = 0.3) -> KernelConfig | None:
    """A neighbour of ``cfg`` (same structure), or None when the new widths do not type-check."""
    g = cfg.module.main
    conv1d = any(op.name == "conv1d" for op in g.ops)
    widths: set[int] = set()
    for a in g.args:
        ax = _channel_axis(a.type, conv1d)
        if ax is not None and isinstance(a.type.shape[ax], int) and a.type.shape[ax] > 1:
            widths.add(a.type.shape[ax])
    for op in g.ops:
        for key in ("out_channels", "out_features"):
            if key in op.attrs and op.attrs[key] > 1:
                widths.add(op.attrs[key])
    wmap = {c: _new_width(c, rng, lo, hi) for c in sorted(widths)}
    smap: dict[int, int] = {}
    if rng.random() < spatial:
        for a in g.args:
            if a.type.rank == 4:
                for d in a.type.shape[2:]:
                    if isinstance(d, int) and d > 1 and d not in smap:
                        smap[d] = max(2, int(d * rng.uniform(0.5, 1.5)))
    return rebuild(cfg, wmap, smap)


def _map_arg(t: TensorType, wmap: dict[int, int], smap: dict[int, int], conv1d: bool) -> TensorType:
    shape = list(t.shape)
    ax = _channel_axis(t, conv1d)
    if ax is not None and shape[ax] in wmap:
        shape[ax] = wmap[shape[ax]]
    if t.rank == 4:
        shape[2:] = [smap.get(d, d) for d in shape[2:]]
    return t.with_shape(shape)


def _map_attrs(op: Operation, wmap: dict[int, int]) -> dict:
    attrs = dict(op.attrs)
    cin = op.operands[0].type.shape[1] if op.operands and op.operands[0].type.rank >= 2 else None
    for key in ("out_channels", "out_features", "num_parameters"):
        if key in attrs and attrs[key] in wmap:
            attrs[key] = wmap[attrs[key]]
    if "groups" in attrs and op.name.startswith("conv") and attrs["groups"] > 1:
        g = attrs["groups"]
        attrs["groups"] = wmap.get(g, g) if g == cin else g  # depthwise stays depthwise
    if op.name in ("reshape", "expand") and "shape" in attrs:
        attrs["shape"] = tuple(wmap.get(d, d) if isinstance(d, int) else d for d in attrs["shape"])
    if op.name == "split":
        return attrs  # sizes would have to be redrawn to add up; type inference rejects it
    return attrs


def rebuild(cfg: KernelConfig, wmap: dict[int, int], smap: dict[int, int]) -> KernelConfig | None:
    """``cfg`` with widths and spatial sizes replaced, the target's selector re-run."""
    g = cfg.module.main
    conv1d = any(op.name == "conv1d" for op in g.ops)
    old_kernel = g.ops[0].kernel
    kernel = Kernel(**old_kernel.attrs) if old_kernel is not None else None
    vmap: dict[Value, Value] = {}
    args = []
    for i, a in enumerate(g.args):
        v = Value(_map_arg(a.type, wmap, smap, conv1d), None, i, a.name_hint)
        vmap[a] = v
        args.append(v)
    ops = []
    try:
        for op in g.ops:
            attrs = op.opdef.normalize_attrs(_map_attrs(op, wmap))
            operands = [vmap[v] for v in op.operands]
            types = op.opdef.infer(tuple(v.type for v in operands), attrs)
            new = Operation(op.opdef, operands, attrs, types, kernel=kernel)
            vmap.update(zip(op.results, new.results))
            ops.append(new)
        module = Module([Graph("main", args, ops, [vmap[v] for v in g.outputs])])
        verify(module)
    except (ValueError, VerifyError, InferError):
        return None
    if kernel is not None and kernel.attrs["target"]:
        t = get_target(kernel.attrs["target"])
        choice = t.selector(ops, t.context(kernel.attrs["precision"] or None))
        kernel.attrs.update(impl=choice.impl, block=choice.block, work_group=choice.work_group,
                            splits=choice.splits)
    new_cfg = KernelConfig(module, kernel_type(ops))
    return new_cfg if new_cfg.key != cfg.key else None


# Single ops and short chains every CNN/transformer target runs, built at shapes the corpus uses,
# so that a family a corpus happens to lack (a standalone batch_norm, a softmax) still has a
# model: a kernel family without one is an error at prediction time, never a silent 0 ms.
def _prim_4d(name: str):
    def build(b: GraphBuilder, x: Value) -> Value:
        c = x.type.shape[1]
        if name == "bn-relu":
            return b.relu(b.batch_norm(x))
        if name == "add-relu":
            return b.relu(b.add(x, b.arg(x.type)))
        if name == "mul-se":
            return b.mul(x, b.arg(x.type.with_shape((1, c, 1, 1))))
        if name == "concat":
            return b.concat(x, b.arg(x.type), axis=1)
        if name == "maxpool":
            return b.max_pool2d(x, kernel=3, stride=2, padding=1)
        if name == "avgpool":
            return b.avg_pool2d(x, kernel=3, stride=1, padding=1)
        if name == "gap":
            return b.global_avg_pool(x)
        if name == "shuffle":
            return b.channel_shuffle(x, groups=2)
        if name == "split":
            return b.split(x, axis=1, sizes=(c // 2, c - c // 2))[0]
        if name == "dwconv":
            return b.conv2d(x, out_channels=c, kernel=3, padding=1, groups=c)
        if name == "conv1x1":
            return b.conv2d(x, out_channels=c, kernel=1)
        return b.op(name, x)

    return build


PRIMITIVES_4D = ("bn-relu", "batch_norm", "relu", "relu6", "hardswish", "sigmoid", "add-relu", "add",
                 "mul-se", "concat", "maxpool", "avgpool", "gap", "shuffle", "split", "dwconv", "conv1x1")


def primitive_configs(target: str, shapes: Iterable[tuple[int, int]], rng: random.Random,
                      per_primitive: int = 12) -> list[KernelConfig]:
    """Kernels of ``PRIMITIVES_4D`` on NCHW maps and softmax / layer_norm / linear / gelu on
    token sequences, at (channels, size) pairs drawn from ``shapes``."""
    shapes = sorted(set(shapes))
    out: dict[str, KernelConfig] = {}
    if not shapes:
        return []
    builders = [(name, _prim_4d(name), 4) for name in PRIMITIVES_4D]
    builders += [(name, lambda b, x, name=name: (b.softmax(x, axis=-1) if name == "softmax" else
                                                 b.layer_norm(x) if name == "layer_norm" else
                                                 b.gelu(x) if name == "gelu" else
                                                 b.linear(x, out_features=x.type.shape[-1])), 3)
                 for name in ("softmax", "layer_norm", "gelu", "linear")]
    for name, build, rank in builders:
        for c, size in rng.sample(shapes, min(per_primitive, len(shapes))):
            if name in ("concat", "shuffle", "split") and c % 2:
                c += 1
            shape = (1, c, size, size) if rank == 4 else (1, max(1, size * size // 16), c)
            b = GraphBuilder("main")
            x = b.arg(TensorType("f32", shape), "x")
            try:
                y = build(b, x)
            except VerifyError:
                continue
            b.ret(y)
            for cfg in kernel_configs(compile_for(Module([b.graph]), target)):
                out.setdefault(cfg.key, cfg)
    return list(out.values())


def corpus_shapes(corpus: dict[str, CorpusEntry]) -> list[tuple[int, int]]:
    """(channels, spatial size) of the rank-4 inputs the corpus kernels read."""
    found = set()
    for e in corpus.values():
        for a in e.config.module.main.args:
            t = a.type
            if t.rank == 4 and t.shape[2] == t.shape[3] and t.shape[2] > 1:
                found.add((t.shape[1], t.shape[2]))
    return sorted(found)
