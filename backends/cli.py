"""``archir export FILE.air --to torch|onnx -o OUTDIR``: write a model other tools can load."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np

from archir.io import load


def configure_export(p: argparse.ArgumentParser) -> None:
    p.description = ("export an .air module: --to torch writes model.py (readable PyTorch source) and, "
                     "when the module has weights, weights.npz; --to onnx writes model.onnx")
    p.add_argument("file", help="the .air file (weights are read from the .npz beside it)")
    p.add_argument("--to", choices=("torch", "onnx"), required=True, help="the target format")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="directory to write into")
    p.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    module = load(args.file)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        print(f"export: error: {out} exists and is not a directory", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    return _export_torch(module, out) if args.to == "torch" else _export_onnx(module, out)


def _export_torch(module, out: Path) -> int:
    from archir.backends.torch import BackendError
    from archir.backends.torch.api import generate

    try:
        source, state = generate(module)
    except BackendError as e:
        print(f"export: error: {e}", file=sys.stderr)
        return 1
    (out / "model.py").write_text(source)
    weights = out / "weights.npz"
    if state:
        np.savez(weights, **state)
    elif weights.exists():
        weights.unlink()  # a stale file from an earlier export would not fit this model
    print(f"wrote {out / 'model.py'}" + (f" and {weights} ({len(state)} tensors)" if state else ""))
    return 0


def _export_onnx(module, out: Path) -> int:
    try:
        backend = importlib.import_module("archir.backends.onnx")
    except ModuleNotFoundError as e:
        if e.name == "archir.backends.onnx":
            print("export: error: the ONNX backend (archir.backends.onnx) is not available in this "
                  "installation", file=sys.stderr)
            return 1
        raise
    import onnx

    model = backend.to_onnx(module)
    onnx.save(model, out / "model.onnx")
    print(f"wrote {out / 'model.onnx'}")
    return 0
