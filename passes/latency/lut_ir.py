"""IR kernels -> Once-for-All latency-table keys, and LUT latency for the targets that have tables.

A ``note10-cpu`` kernel is one table unit (see ``passes/targets/note10.py``); its key is read off
its ops' shapes and attributes, then parsed back so a key the tables could never hold fails here,
naming the kernel, instead of becoming a silent model extrapolation.
"""

from __future__ import annotations

from collections.abc import Sequence

from archir.ir import Module, Operation, Value
from archir.passes.latency.lut import LutPredictor
from archir.passes.latency.lut_keys import BLOCK_OP, LutKeyError, parse_key
from archir.passes.targets import compile_for, get_target
from archir.passes.targets.note10 import is_depthwise, unit_of

LUT_TARGETS = ("note10-cpu",)


class LutKernelError(ValueError):
    pass


def is_lut_target(target: str) -> bool:
    return target in LUT_TARGETS


def _int(d, what: str, ops: Sequence[Operation]) -> int:
    if not isinstance(d, int):
        raise LutKernelError(f"{what} of the {unit_of(ops)} kernel is symbolic ({d}); the tables "
                             f"need a fixed input resolution")
    return d


def _hwc(v: Value, ops: Sequence[Operation]) -> str:
    """A value as the tables write it: HxWxC (NCHW in the IR; a 2-d [N, C] is 1x1xC)."""
    s = v.type.shape
    if v.type.rank == 4:
        c, h, w = (_int(d, "a dimension", ops) for d in (s[1], s[2], s[3]))
    elif v.type.rank == 2:
        c, h, w = _int(s[1], "a dimension", ops), 1, 1
    else:
        raise LutKernelError(f"the {unit_of(ops)} kernel reads or writes a rank-{v.type.rank} tensor")
    return f"{h}x{w}x{c}"


def kernel_key(ops: Sequence[Operation]) -> str:
    """The table key of one ``note10-cpu`` kernel (its ops in graph order)."""
    op = unit_of(ops)
    x, y = ops[0].operands[0], ops[-1].result
    key = f"{op}-input:{_hwc(x, ops)}"
    if op == "Logits":
        key += f"-output:{_int(y.type.shape[-1], 'the class count', ops)}"
    else:
        key += f"-output:{_hwc(y, ops)}"
    if op == BLOCK_OP:
        dw = next(o for o in ops if is_depthwise(o))
        k, s = tuple(dw.attrs["kernel"]), tuple(dw.attrs["stride"])
        if k[0] != k[1] or s[0] != s[1]:
            raise LutKernelError(f"the tables hold square depthwise kernels and strides, not {k} / {s}")
        names = {o.name for o in ops}
        key += (f"-expand:{dw.attrs['out_channels']}-kernel:{k[0]}-stride:{s[0]}"
                f"-idskip:{int('add' in names)}-se:{int('mul' in names)}-hs:{int('hardswish' in names)}")
    try:
        if str(parse_key(key)) != key:
            raise LutKernelError(f"key {key!r} does not round-trip through the table-key parser")
    except LutKeyError as e:
        raise LutKernelError(f"the {op} kernel has no valid table key: {e}") from None
    return key


def _predictor(target: str, predictor: LutPredictor | str | None) -> LutPredictor:
    from archir.passes.latency.lut_cache import note10_predictor

    if isinstance(predictor, LutPredictor):
        return predictor
    if predictor is not None and not isinstance(predictor, str):
        raise LutKernelError(f"target '{target}' answers from a LUT predictor, "
                             f"not a {type(predictor).__name__}")
    return note10_predictor(predictor)


def _kernels(module: Module, target: str):
    """(kernel, ops) of every graph; raises when a kernel was fused for another target."""
    out = []
    for g in module.graphs.values():
        for kernel, ops in g.kernels():
            if kernel.attrs["target"] != target:
                raise LutKernelError(f"@{g.name} has kernels fused for '{kernel.attrs['target']}', not "
                                     f"'{target}'")
            out.append((kernel, ops))
    return out


def module_keys(module: Module, target: str) -> list[str]:
    """Table keys of a module fused for ``target``, in network order (fused on a copy if needed)."""
    get_target(target)
    if not any(op.kernel is not None for _, op in module.walk()):
        module = compile_for(module, target)
    return [kernel_key(ops) for _, ops in _kernels(module, target)]


def predict_latency_lut(module: Module, target: str, predictor: LutPredictor | str | None = None) -> float:
    """End-to-end latency in ms: the sum of the table units' measured or predicted means."""
    return float(sum(_predictor(target, predictor).predict_keys(module_keys(module, target))))


def annotate_lut(module: Module, target: str, predictor: LutPredictor | str | None = None) -> None:
    """Set latency_us on every kernel of a fused module in place; the tables give no per-key spread
    the predictor reproduces, so latency_std_us stays -1 (unknown)."""
    found = _kernels(module, target)
    ms = _predictor(target, predictor).predict_keys(kernel_key(ops) for _, ops in found)
    for (kernel, _), value in zip(found, ms):
        kernel.attrs["latency_us"] = round(value * 1e3, 3)
        kernel.attrs["latency_std_us"] = -1.0
        kernel.attrs["latency_source"] = "imported"  # measured on the phone by OFA, not here
