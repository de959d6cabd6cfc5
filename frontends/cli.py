"""``archir lower``: a PyTorch model → ``.air`` text (+ ``.npz`` weights beside it).

    archir lower torchvision:resnet18 --input 1,3,224,224 -o resnet18.air
    archir lower path/to/model.py:make_model --input 1,16 --input i64:1,16
    archir lower my_package.models:build --input 1,3,64,64 --no-weights

The model spec is ``torchvision:NAME`` (random init, weights=None) or ``FILE.py:FACTORY`` /
``dotted.module:FACTORY``, where FACTORY() returns an nn.Module.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from archir.frontends.errors import FrontendError

_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "i64": "int64",
           "i32": "int32", "bool": "bool", "u8": "uint8", "i8": "int8"}


def configure_lower(p: argparse.ArgumentParser) -> None:
    p.description = "lower a PyTorch model to archir IR"
    p.add_argument("model", help="torchvision:NAME, FILE.py:FACTORY or dotted.module:FACTORY")
    p.add_argument("--input", action="append", required=True, metavar="[DTYPE:]D0,D1,...",
                   help="shape of one example input (repeat for several inputs); dtype f32 "
                        "by default, e.g. i64:1,16 for token ids")
    p.add_argument("-o", "--output", help="write the IR here (weights go to the .npz beside it); "
                                          "prints the IR when omitted")
    p.add_argument("--no-weights", action="store_true", help="lower the architecture only")
    p.set_defaults(run=run_lower)


def run_lower(args: argparse.Namespace) -> int:
    import archir
    from archir.frontends.torch import from_torch

    try:
        model = load_model(args.model)
        inputs = tuple(example_input(spec) for spec in args.input)
        module = from_torch(model, inputs, weights=not args.no_weights)
    except FrontendError as e:
        print(f"archir lower: error: {e}", file=sys.stderr)
        return 1
    if args.output:
        archir.save(module, args.output)
        weights = archir.io.weights_path(args.output)
        extra = f" (+ {weights})" if weights.exists() else ""
        print(f"{args.model}: {module.num_ops} ops -> {args.output}{extra}", file=sys.stderr)
    else:
        print(archir.to_text(module), end="")
    return 0


def load_model(spec: str) -> Any:
    import torch

    source, sep, name = spec.rpartition(":")
    if not sep or not source or not name:
        raise FrontendError(f"model spec {spec!r} is not torchvision:NAME or FILE.py:FACTORY")
    if source == "torchvision":
        import torchvision

        if name not in torchvision.models.list_models():
            raise FrontendError(f"torchvision has no model {name!r}")
        return torchvision.models.get_model(name, weights=None)
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise FrontendError(f"no such file: {source}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules.setdefault(path.stem, module)
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(source)
        except ImportError as e:
            raise FrontendError(f"cannot import {source}: {e}") from e
    factory = getattr(module, name, None)
    if factory is None:
        raise FrontendError(f"{source} has no {name!r}")
    model = factory() if not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(model, torch.nn.Module):
        raise FrontendError(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def example_input(spec: str) -> Any:
    """``[dtype:]d0,d1,...`` → a random tensor of that shape (ints in [0, 2))."""
    import torch

    dtype, _, dims = spec.rpartition(":")
    dtype = dtype or "f32"
    if dtype not in _DTYPES:
        raise FrontendError(f"unknown dtype {dtype!r} in --input {spec} (one of {', '.join(_DTYPES)})")
    try:
        shape = tuple(int(d) for d in dims.split(","))
    except ValueError:
        raise FrontendError(f"--input {spec}: dims must be integers separated by commas") from None
    torch_dtype = getattr(torch, _DTYPES[dtype])
    if torch_dtype.is_floating_point:
        return torch.randn(shape, dtype=torch_dtype)
    return torch.randint(0, 2, shape).to(torch_dtype)
