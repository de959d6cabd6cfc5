"""Emitters for pooling, padding and resizing."""

from __future__ import annotations

from archir.backends.torch.context import Emit, Emitter, literal, tuple_expr
from archir.backends.torch.emit_conv import torch_pad_pairs
from archir.ops._shapes import pads_of


def _window_kwargs(e: Emit, padding: tuple[int, ...] | None) -> list[str]:
    # PyTorch's stride defaults to the kernel, the IR's to 1: always say it unless they agree
    kwargs = [literal(e["kernel"])]
    if e["stride"] != e["kernel"]:
        kwargs.append(f"stride={literal(e['stride'])}")
    if padding:
        kwargs.append(f"padding={literal(padding)}")
    return kwargs


def _crop(e: Emit, expr: str) -> str:
    """Windows that ceil_mode adds past the IR's last window (asymmetric padding only)."""
    h, w = e.out_type().shape[2:]
    return f"{expr}[..., :{h}, :{w}]" if e["ceil_mode"] else expr


def _max_pool(e: Emit) -> str:
    pads = pads_of(e["padding"], e["kernel"], e["dilation"])
    symmetric = pads[:2] == pads[2:]
    args = _window_kwargs(e, pads[:2] if symmetric and any(pads) else None)
    if e["dilation"] != (1, 1):
        args.append(f"dilation={literal(e['dilation'])}")
    if e["ceil_mode"]:
        args.append("ceil_mode=True")
    if symmetric:
        return f"F.max_pool2d({e.x}, {', '.join(args)})"
    padded = f'F.pad({e.x}, {tuple_expr(torch_pad_pairs(pads))}, value=float("-inf"))'
    return _crop(e, f"F.max_pool2d({padded}, {', '.join(args)})")


def _avg_pool(e: Emit) -> str:
    pads = pads_of(e["padding"], e["kernel"], (1, 1))
    if pads[:2] != pads[2:]:
        fn = e.helper("avg_pool2d_padded")
        size = tuple_expr(list(e.out_type().shape[2:]))
        return (f"{fn}({e.x}, {literal(e['kernel'])}, {literal(e['stride'])}, {literal(pads)}, "
                f"ceil_mode={e['ceil_mode']}, count_include_pad={e['count_include_pad']}, size={size})")
    args = _window_kwargs(e, pads[:2] if any(pads) else None)
    if e["ceil_mode"]:
        args.append("ceil_mode=True")
    if not e["count_include_pad"] and any(pads):
        args.append("count_include_pad=False")
    return f"F.avg_pool2d({e.x}, {', '.join(args)})"


def _global(fn: str) -> Emitter:
    def emit(e: Emit) -> str:
        dims = tuple_expr(list(range(2, e.in_type().rank)))
        return f"{fn}({e.x}, dim={dims}, keepdim=True)"

    return emit


def _pad(e: Emit) -> str:
    pads, mode, rank = e["pads"], e["mode"], e.in_type().rank
    pairs = list(torch_pad_pairs(pads))
    while pairs and pairs[-2:] == [0, 0]:  # F.pad needs pairs only up to the first padded dim
        pairs = pairs[:-2]
    if not pairs:
        return e.x
    if mode == "constant":
        value = "" if e["value"] == 0 else f", value={literal(e['value'])}"
        return f"F.pad({e.x}, {tuple_expr(pairs)}{value})"
    padded_dims = len(pairs) // 2
    shape = e.in_type().shape
    fits = (padded_dims <= 3 and rank in (padded_dims + 1, padded_dims + 2) and min(pairs) >= 0
            and (mode == "edge" or all(
                max(pairs[2 * i], pairs[2 * i + 1]) < shape[rank - 1 - i] for i in range(padded_dims))))
    if fits:
        torch_mode = "replicate" if mode == "edge" else "reflect"
        return f'F.pad({e.x}, {tuple_expr(pairs)}, mode="{torch_mode}")'
    # PyTorch's reflect/replicate pad only the last 1-3 dims of a batched input: index instead
    return f'{e.helper("pad")}({e.x}, {literal(pads)}, "{mode}")'


def _resize(e: Emit) -> str:
    size = e["size"]
    if not all(isinstance(d, int) for d in size):
        raise e.fail(f"resize to a symbolic size {list(size)} is not supported")
    mode, coords = e["mode"], e["coordinates"]
    spatial = len(size)
    shape = e.in_type().shape[2:]
    torch_mode = None
    if mode == "nearest" and coords == "asymmetric":
        torch_mode = "nearest"
    elif mode == "linear" and spatial <= 3 and coords != "asymmetric":
        if coords != "pytorch_half_pixel" or all(m != 1 or n == 1 for m, n in zip(size, shape)):
            torch_mode = ("linear", "bilinear", "trilinear")[spatial - 1]
    elif mode == "cubic" and spatial == 2 and coords in ("half_pixel", "align_corners"):
        torch_mode = "bicubic"
    if torch_mode is None:
        return f'{e.helper("resize")}({e.x}, {tuple_expr(list(size))}, mode="{mode}", coordinates="{coords}")'
    align = ""
    if torch_mode != "nearest":
        align = f", align_corners={coords == 'align_corners'}"
    return f'F.interpolate({e.x}, size={tuple_expr(list(size))}, mode="{torch_mode}"{align})'


EMITTERS: dict[str, Emitter] = {
    "max_pool2d": _max_pool,
    "avg_pool2d": _avg_pool,
    "adaptive_avg_pool2d": lambda e: f"F.adaptive_avg_pool2d({e.x}, {literal(e['output_size'])})",
    "adaptive_max_pool2d": lambda e: f"F.adaptive_max_pool2d({e.x}, {literal(e['output_size'])})",
    "global_avg_pool": _global("torch.mean"),
    "global_max_pool": _global("torch.amax"),
    "pad": _pad,
    "resize": _resize,
}
