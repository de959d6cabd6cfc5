"""Emitters for normalisation layers."""

from __future__ import annotations

from archir.backends.torch.context import Emit, Emitter, literal, tuple_expr
from archir.ops._shapes import axis


def _spatial_rank(e: Emit, kinds: tuple[int, ...]) -> int:
    rank = e.in_type().rank - 2
    if rank not in kinds:
        raise e.fail(f"PyTorch has no layer for a rank-{rank + 2} input ({e.in_type()})")
    return rank


def _eps(e: Emit, default: float = 1e-5) -> str:
    return "" if e["eps"] == default else f", eps={literal(e['eps'])}"


def _batch_norm(e: Emit) -> str:
    # BatchNorm1d takes (N, C) and (N, C, L); the IR's op is batch norm over axis 1 at any rank
    rank = max(1, _spatial_rank(e, (0, 1, 2, 3)))
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.BatchNorm{rank}d({e.in_type().shape[1]}{_eps(e)}{dtype})")
    return f"{layer}({e.x})"


def _normalized_shape(e: Emit) -> str:
    t = e.in_type()
    return tuple_expr(list(t.shape[axis(e["axis"], t.rank):]))


def _layer_norm(e: Emit) -> str:
    flags = "" if e["affine"] else ", elementwise_affine=False"
    flags += "" if e["bias"] or not e["affine"] else ", bias=False"
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.LayerNorm({_normalized_shape(e)}{_eps(e)}{flags}{dtype})")
    return f"{layer}({e.x})"


def _rms_norm(e: Emit) -> str:
    flags = "" if e["affine"] else ", elementwise_affine=False"
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.RMSNorm({_normalized_shape(e)}, eps={literal(e['eps'])}{flags}{dtype})")
    return f"{layer}({e.x})"


def _group_norm(e: Emit) -> str:
    flags = "" if e["affine"] else ", affine=False"
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.GroupNorm({e['groups']}, {e.in_type().shape[1]}{_eps(e)}{flags}{dtype})")
    return f"{layer}({e.x})"


def _instance_norm(e: Emit) -> str:
    rank = _spatial_rank(e, (1, 2, 3))
    # the IR's instance norm always normalises with the sample's own statistics
    flags = ", affine=True" if e["affine"] else ""
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.InstanceNorm{rank}d({e.in_type().shape[1]}{_eps(e)}{flags}{dtype})")
    return f"{layer}({e.x})"


def _lrn(e: Emit) -> str:
    return (f"F.local_response_norm({e.x}, {e['size']}, alpha={literal(e['alpha'])}, "
            f"beta={literal(e['beta'])}, k={literal(e['k'])})")


EMITTERS: dict[str, Emitter] = {
    "lrn": _lrn,
    "batch_norm": _batch_norm,
    "layer_norm": _layer_norm,
    "rms_norm": _rms_norm,
    "group_norm": _group_norm,
    "instance_norm": _instance_norm,
}
