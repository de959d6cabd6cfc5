"""The torchvision zoo: does every classification model lower, and compute what it computed?

For every model in ``torchvision.models.list_models(module=torchvision.models)`` (random
weights, eval mode, fixed seed; all-zero parameters such as ViT's head are given random values
so that the numeric checks are not vacuous): lower with ``archir.from_torch``, verify, round-trip
through text, then compare the original's output with ``archir.to_torch(module)`` and with
``archir.to_onnx(module)`` run in onnxruntime (CPU, one thread). A model passes when both agree
with the original within rtol 1e-4 / atol 1e-5 taken against the output's scale:
max|got - want| <= atol + rtol * max|want|. (Random-weight deep residual nets reach logits of
1e4-1e9; elementwise tolerances then fail on the logits near zero through float32 rounding alone,
which says nothing about the lowering.) The table goes to docs/zoo.md
(rewritten after every model, so an interrupted run leaves what it measured).

    .venv/bin/python benchmarks/zoo_report.py [--models resnet18,vit_b_16] [--out docs/zoo.md]
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision

import archir

ROOT = Path(__file__).resolve().parent.parent
RTOL, ATOL = 1e-4, 1e-5
# image sizes as in tests/test_frontend_torch_coverage.py: CNNs at 64x64, inception_v3 at 96,
# the transformers at the native sizes their window and patch layouts need
_NATIVE = {"vit_": 224, "swin_v2_": 256, "swin_": 224, "maxvit_": 224, "inception_": 96}
_PROTO_LIMIT = 1_800_000_000  # protobuf cannot serialise 2 GB; above this, external data


def image_size(name: str) -> int:
    return next((size for prefix, size in _NATIVE.items() if name.startswith(prefix)), 64)


def _error(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def _trim() -> None:
    """Give freed heap back to the OS between models (glibc keeps it otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _compare(got: np.ndarray, want: np.ndarray) -> tuple[float, bool]:
    if got.shape != want.shape:
        raise ValueError(f"output shape {tuple(got.shape)} != {tuple(want.shape)}")
    err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    return err, err <= ATOL + RTOL * float(np.max(np.abs(want)))


def _unused_params(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Parameters the eval forward never reads (auxiliary heads): they get no gradient."""
    model.zero_grad(set_to_none=True)
    model(x).sum().backward()
    return sum(p.numel() for p in model.parameters() if p.grad is None)


def _run_onnx(proto: onnx.ModelProto, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """Run ``proto`` in onnxruntime; returns the output and whether external data was needed."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    size = sum(len(t.raw_data) + 4 * len(t.float_data) for t in proto.graph.initializer)
    if size < _PROTO_LIMIT:
        data = proto.SerializeToString()
        sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        del data
        external = False
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "model.onnx")
            onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location="model.onnx.data", size_threshold=1024)
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        external = True
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: x})[0]
    del sess
    return out, external


def check(name: str) -> dict:
    """One row: every stage runs in its own try, so a failure is recorded and the rest go on."""
    row: dict = {"model": name, "size": image_size(name), "errors": []}
    torch.manual_seed(0)
    np.random.seed(0)
    try:
        model = torchvision.models.get_model(name, weights=None).eval()
        with torch.no_grad():
            for p in model.parameters():  # zero-initialised heads (ViT) would hide differences
                if not p.any():
                    p.normal_(0.0, 0.02)
        row["torch_params"] = sum(p.numel() for p in model.parameters())
        x = torch.randn(1, 3, row["size"], row["size"])
        with torch.no_grad():
            want = model(x).numpy()
        row["ref_max"] = float(np.max(np.abs(want)))
    except Exception as e:  # noqa: BLE001
        row["errors"].append(f"build: {_error(e)}")
        return row

    module = None
    try:
        start = time.perf_counter()
        module = archir.from_torch(model, (x,))
        row["lower_s"] = time.perf_counter() - start
        archir.verify(module)
        text = archir.to_text(module)
        if archir.to_text(archir.parse(text)) != text:
            raise AssertionError("to_text(parse(text)) != text")
        del text
        row["ops"] = module.num_ops
        row["ir_params"] = archir.cost(module).params
        if row["ir_params"] != row["torch_params"]:
            row["unused_params"] = _unused_params(model, x)
        row["lowered"] = True
    except Exception as e:  # noqa: BLE001
        row["errors"].append(f"lower: {_error(e)}")
    del model
    _trim()
    if not row.get("lowered"):
        return row

    try:
        rebuilt = archir.to_torch(module)
        with torch.no_grad():
            got = rebuilt(x).numpy()
        del rebuilt
        row["torch_err"], row["torch_ok"] = _compare(got, want)
    except Exception as e:  # noqa: BLE001
        row["errors"].append(f"to_torch: {_error(e)}")
    _trim()

    try:
        proto = archir.to_onnx(module)
        del module
        _trim()
        got, row["external"] = _run_onnx(proto, x.numpy())
        del proto
        row["onnx_err"], row["onnx_ok"] = _compare(got, want)
    except Exception as e:  # noqa: BLE001
        row["errors"].append(f"to_onnx: {_error(e)}")
    _trim()
    return row


def _fmt_err(row: dict, key: str) -> str:
    return f"{row[key]:.2e}" if key in row else "—"


def _fmt_params(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def render(rows: list[dict], total: int, command: str, seconds: float) -> str:
    n = len(rows)
    lowered = sum(bool(r.get("lowered")) for r in rows)
    t_ok = sum(bool(r.get("torch_ok")) for r in rows)
    o_ok = sum(bool(r.get("onnx_ok")) for r in rows)
    done = "" if n == total else f" (partial: {n} of {total} models run so far)"
    lines = [
        "# torchvision zoo: lowering and numeric round trips",
        "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()} "
        f"(torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"onnxruntime {ort.__version__}, onnx {onnx.__version__}); do not edit by hand.",
        "",
        f"**{lowered}/{n} lower, {t_ok}/{n} to_torch match, {o_ok}/{n} to_onnx match**{done}; "
        f"total {seconds / 60:.1f} min.",
        "",
        "Each model: random weights (weights=None, `torch.manual_seed(0)`; all-zero parameters "
        "redrawn from N(0, 0.02) so zero-initialised heads do not make the comparison vacuous), "
        "eval mode, one torch thread, input 1x3xSxS (64 for CNNs, 96 for inception_v3, the "
        "native size where windows or patches fix it). *lower* = `archir.from_torch` + "
        "`archir.verify` + text round trip (`to_text(parse(t)) == t`). The errors are the max "
        "abs difference of the logits against the original model: `archir.to_torch(module)` in "
        "torch, `archir.to_onnx(module)` in onnxruntime (CPUExecutionProvider, 1 intra-op "
        f"thread). *pass* = both within `max|err| <= {ATOL:g} + {RTOL:g} * max|ref|` (tolerances "
        "against the output's scale: random-weight deep nets reach logits of 1e4-1e9, where "
        "elementwise tolerances fail on near-zero logits by float32 rounding alone). *params*: "
        "`archir.cost(module).params` / `sum(p.numel())` of the torch model. Lowering time is "
        "`from_torch` alone (export included).",
        "",
        "| model | input | ops | params (archir / torch) | lower (s) | max \\|ref\\| "
        "| to_torch max abs err | to_onnx max abs err | pass | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|:---:|---|",
    ]
    for r in rows:
        ok = r.get("lowered") and r.get("torch_ok") and r.get("onnx_ok")
        params = f"{_fmt_params(r.get('ir_params'))} / {_fmt_params(r.get('torch_params'))}"
        lower = f"{r['lower_s']:.1f}" if "lower_s" in r else "—"
        notes = list(r["errors"])
        if r.get("external"):
            notes.append("onnx > 2 GB: run with external data")
        if r.get("unused_params"):
            notes.append(f"torch count includes {r['unused_params']:,} params the eval forward "
                         f"never reads (auxiliary heads)")
        if "torch_ok" in r and not r["torch_ok"]:
            notes.append("to_torch outside tolerance")
        if "onnx_ok" in r and not r["onnx_ok"]:
            notes.append("to_onnx outside tolerance")
        note = "; ".join(notes).replace("|", "\\|")
        ref = f"{r['ref_max']:.3g}" if "ref_max" in r else "—"
        lines.append(f"| {r['model']} | {r['size']} | {r.get('ops', '—')} | {params} | {lower} | {ref} "
                     f"| {_fmt_err(r, 'torch_err')} | {_fmt_err(r, 'onnx_err')} "
                     f"| {'yes' if ok else '**no**'} | {note} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", help="comma-separated subset (default: all)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "zoo.md"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    everything = torchvision.models.list_models(module=torchvision.models)
    names = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else everything
    unknown = sorted(set(names) - set(everything))
    if unknown:
        ap.error(f"unknown models: {', '.join(unknown)}")
    command = "python benchmarks/zoo_report.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    started = time.perf_counter()
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        row = check(name)
        rows.append(row)
        status = "ok" if row.get("torch_ok") and row.get("onnx_ok") else "FAIL"
        print(f"[{i}/{len(names)}] {name}: {status} ops={row.get('ops', '-')} "
              f"lower={row.get('lower_s', float('nan')):.1f}s "
              f"torch_err={row.get('torch_err', float('nan')):.2e} "
              f"onnx_err={row.get('onnx_err', float('nan')):.2e} "
              f"({time.perf_counter() - t0:.1f}s) {'; '.join(row['errors'])}", flush=True)
        out.write_text(render(rows, len(names), command, time.perf_counter() - started))
    seconds = time.perf_counter() - started
    out.write_text(render(rows, len(names), command, seconds))
    n = len(rows)
    print(f"{sum(bool(r.get('lowered')) for r in rows)}/{n} lower, "
          f"{sum(bool(r.get('torch_ok')) for r in rows)}/{n} to_torch match, "
          f"{sum(bool(r.get('onnx_ok')) for r in rows)}/{n} to_onnx match; "
          f"{seconds / 60:.1f} min; wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
