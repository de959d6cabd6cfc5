"""Emitters for the ops that carry weights: convolutions, linear, matmul, embedding."""

from __future__ import annotations

from archir.backends.torch.context import Emit, Emitter, literal, tuple_expr
from archir.ops._shapes import pads_of
from archir.types import DType


def torch_pad_pairs(pads: tuple[int, ...]) -> tuple[int, ...]:
    """IR pads (all begins, then all ends, first dim first) -> F.pad's (last dim first) pairs."""
    n = len(pads) // 2
    out: list[int] = []
    for i in reversed(range(n)):
        out += [pads[i], pads[n + i]]
    return tuple(out)


def _conv(e: Emit) -> str:
    rank = len(e["kernel"])
    transposed = e.op.name == "conv_transpose2d"
    cin = e.in_type().shape[1]
    pads = pads_of(e["padding"], e["kernel"], e["dilation"])
    symmetric = pads[:rank] == pads[rank:]
    kwargs = [f"kernel_size={literal(e['kernel'])}"]
    if e["stride"] != (1,) * rank:
        kwargs.append(f"stride={literal(e['stride'])}")
    if symmetric and any(pads):
        kwargs.append(f"padding={literal(pads[:rank])}")
    if transposed and e["output_padding"] != (0,) * rank:
        kwargs.append(f"output_padding={literal(e['output_padding'])}")
    if e["dilation"] != (1,) * rank:
        kwargs.append(f"dilation={literal(e['dilation'])}")
    if e["groups"] != 1:
        kwargs.append(f"groups={e['groups']}")
    if not e["bias"]:
        kwargs.append("bias=False")
    cls = "ConvTranspose2d" if transposed else f"Conv{rank}d"
    kwargs[-1] += e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.{cls}({cin}, {e['out_channels']}, {', '.join(kwargs)})")
    if symmetric:
        return f"{layer}({e.x})"
    if not transposed:
        # PyTorch convolutions pad symmetrically; asymmetric ("same" with an even kernel) pads first
        return f"{layer}(F.pad({e.x}, {tuple_expr(torch_pad_pairs(pads))}))"
    # a transposed convolution's padding crops its full output, so crop explicitly
    out = e.out_type().shape
    crops = ", ".join(f"{pads[i]}:{pads[i] + out[2 + i]}" for i in range(rank))
    return f"{layer}({e.x})[:, :, {crops}]"


def _linear(e: Emit) -> str:
    bias = "" if e["bias"] else ", bias=False"
    dtype = e.dtype_kw(e.out_type().dtype)
    layer = e.submodule(f"nn.Linear({e.in_type().shape[-1]}, {e['out_features']}{bias}{dtype})")
    return f"{layer}({e.x})"


def _embedding(e: Emit) -> str:
    dtype = e.dtype_kw(e["dtype"])
    layer = e.submodule(f"nn.Embedding({e['num_embeddings']}, {e['embedding_dim']}{dtype})")
    # PyTorch looks up int64 or int32 ids only
    ids = e.x if e.in_type().dtype in (DType.I64, DType.I32) else f"{e.x}.long()"
    return f"{layer}({ids})"


EMITTERS: dict[str, Emitter] = {
    "conv1d": _conv,
    "conv2d": _conv,
    "conv_transpose2d": _conv,
    "linear": _linear,
    "matmul": lambda e: f"torch.matmul({e.args[0]}, {e.args[1]})",
    "embedding": _embedding,
}
