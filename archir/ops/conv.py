"""Convolutions, linear layers, matmul and embeddings: the ops that carry weights."""

from __future__ import annotations

from archir.attrs import BOOL, DTYPE, INT, Attr, ints, pads
from archir.opdef import InferError, declare
from archir.ops._shapes import broadcast, pads_of, same_dim, static, window_out
from archir.types import DType, TensorType


def _conv_attrs(rank: int, transposed: bool = False) -> dict[str, Attr]:
    attrs = {
        "out_channels": Attr(INT),
        "kernel": Attr(ints(rank, min_value=1)),
        "stride": Attr(ints(rank, min_value=1), (1,) * rank),
        "padding": Attr(pads(rank), (0,) * rank),
        "dilation": Attr(ints(rank, min_value=1), (1,) * rank),
        "groups": Attr(INT, 1),
        "bias": Attr(BOOL, True),
    }
    if transposed:
        attrs["output_padding"] = Attr(ints(rank, min_value=0), (0,) * rank)
    return attrs


def _check_groups(cin: int, a) -> None:
    g = a["groups"]
    if g < 1 or cin % g or a["out_channels"] % g:
        raise InferError(
            f"groups={g} must divide in channels {cin} and out_channels {a['out_channels']}"
        )


def _conv_infer(rank: int):
    def infer(ins, a):
        (x,) = ins
        if x.rank != rank + 2:
            raise InferError(f"expected a rank-{rank + 2} input (N, C, spatial...), got {x}")
        _check_groups(static(x.shape[1], "channels"), a)
        pad = pads_of(a["padding"], a["kernel"], a["dilation"])
        spatial = [
            window_out(x.shape[2 + i], a["kernel"][i], a["stride"][i], pad[i], pad[rank + i],
                       a["dilation"][i])
            for i in range(rank)
        ]
        return (x.with_shape((x.shape[0], a["out_channels"], *spatial)),)

    return infer


def _conv_params(ins, a):
    cin = ins[0].shape[1]
    shapes = {"weight": (a["out_channels"], cin // a["groups"], *a["kernel"])}
    if a["bias"]:
        shapes["bias"] = (a["out_channels"],)
    return shapes


for _rank in (1, 2):
    declare(
        f"conv{_rank}d", "x", _conv_infer(_rank), family="conv", attrs=_conv_attrs(_rank),
        params=_conv_params,
        doc=f"{_rank}-D convolution; groups == in channels == out_channels is depthwise",
    )


def _conv_transpose_infer(ins, a):
    (x,) = ins
    if x.rank != 4:
        raise InferError(f"expected a rank-4 input (N, C, H, W), got {x}")
    _check_groups(static(x.shape[1], "channels"), a)
    pad = pads_of(a["padding"], a["kernel"], a["dilation"])
    spatial = []
    for i in range(2):
        size = static(x.shape[2 + i], "spatial size")
        out = ((size - 1) * a["stride"][i] - pad[i] - pad[2 + i]
               + a["dilation"][i] * (a["kernel"][i] - 1) + a["output_padding"][i] + 1)
        if out <= 0:
            raise InferError(f"transposed convolution gives empty output ({out})")
        spatial.append(out)
    return (x.with_shape((x.shape[0], a["out_channels"], *spatial)),)


def _conv_transpose_params(ins, a):
    cin = ins[0].shape[1]
    shapes = {"weight": (cin, a["out_channels"] // a["groups"], *a["kernel"])}
    if a["bias"]:
        shapes["bias"] = (a["out_channels"],)
    return shapes


declare(
    "conv_transpose2d", "x", _conv_transpose_infer, family="conv",
    attrs=_conv_attrs(2, transposed=True), params=_conv_transpose_params,
)


def _linear_infer(ins, a):
    (x,) = ins
    if x.rank < 1:
        raise InferError("linear needs an input of rank >= 1")
    static(x.shape[-1], "input features")
    return (x.with_shape((*x.shape[:-1], a["out_features"])),)


def _linear_params(ins, a):
    shapes = {"weight": (a["out_features"], ins[0].shape[-1])}
    if a["bias"]:
        shapes["bias"] = (a["out_features"],)
    return shapes


declare(
    "linear", "x", _linear_infer, family="linear",
    attrs={"out_features": Attr(INT), "bias": Attr(BOOL, True)}, params=_linear_params,
    doc="y = x·Wᵀ + b over the last dimension",
)


def _matmul_infer(ins, a):
    x, y = ins
    if x.rank < 2 or y.rank < 2:
        raise InferError(f"matmul needs rank >= 2 operands, got {x} and {y}")
    same_dim(x.shape[-1], y.shape[-2], "matmul inner dimensions")
    if x.dtype != y.dtype:
        raise InferError(f"matmul of {x.dtype} and {y.dtype}")
    batch = broadcast(x.with_shape(x.shape[:-2]), y.with_shape(y.shape[:-2]))
    return (x.with_shape((*batch, x.shape[-2], y.shape[-1])),)


declare("matmul", "a b", _matmul_infer, family="matmul", doc="batched matrix product")


def _embedding_infer(ins, a):
    (ids,) = ins
    if ids.dtype.is_float:
        raise InferError(f"embedding indices must be integers, got {ids.dtype}")
    return (TensorType(a["dtype"], (*ids.shape, a["embedding_dim"])),)


declare(
    "embedding", "ids", _embedding_infer, family="embedding",
    attrs={"num_embeddings": Attr(INT), "embedding_dim": Attr(INT), "dtype": Attr(DTYPE, DType.F32)},
    params=lambda ins, a: {"weight": (a["num_embeddings"], a["embedding_dim"])},
)
