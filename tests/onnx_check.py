"""Shared helpers of the ONNX tests: run a model in onnxruntime, make zoo weights random."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT

ZOO = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
ZOO_MODELS = sorted(p.stem.removeprefix("light_") for p in ZOO.glob("light_*.onnx"))
RTOL, ATOL = 1e-4, 1e-5


def session(model: onnx.ModelProto | str | Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # unused-initializer notices from the zoo files are noise
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.disable_prepacking", "1")  # no second copy of VGG's weights
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def input_names(model: onnx.ModelProto) -> list[str]:
    """Graph inputs that are not initializers (IR 3 lists both)."""
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def input_shape(model: onnx.ModelProto, i: int = 0) -> list[int]:
    vi = next(v for v in model.graph.input if v.name == input_names(model)[i])
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def run(model: onnx.ModelProto, *inputs: np.ndarray) -> list[np.ndarray]:
    return session(model).run(None, dict(zip(input_names(model), inputs)))


def randomized(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """The zoo's "light" models build every weight with ConstantOfShape(0.02), which makes
    every class score equal; this swaps each for a random initializer of the same shape
    (fan-in scaled matrices, positive vectors so batch-norm variances stay valid)."""
    rng = np.random.default_rng(seed)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    shapes = {t.name: numpy_helper.to_array(t) for t in out.graph.initializer}
    kept = []
    for node in out.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = tuple(int(d) for d in shapes[node.input[0]])
            if len(shape) >= 2:  # uniform with variance 1/fan_in (cheaper than normal for VGG)
                value = rng.random(shape, dtype=np.float32)
                value -= np.float32(0.5)
                value *= np.float32(np.sqrt(12 / np.prod(shape[1:])))
            else:
                value = rng.uniform(0.5, 1.5, shape).astype(np.float32)
            out.graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
            if out.ir_version < 4:  # IR 3 lists every initializer among the graph inputs
                out.graph.input.append(helper.make_tensor_value_info(node.output[0], FLOAT, shape))
        else:
            kept.append(node)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    return out


def image(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def max_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def make_model(nodes, inputs: dict, outputs, inits: dict | None = None, opset: int = 17,
               dtypes: dict | None = None) -> onnx.ModelProto:
    """A model from nodes, input shapes (ints or dim_param names) and initializer arrays;
    an output is a name (its type comes from ONNX shape inference) or (name, float shape)."""
    dtypes = dtypes or {}
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, dtypes.get(n, FLOAT), list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n[0], FLOAT, list(n[1])) if isinstance(n, tuple)
         else helper.make_value_info(n, onnx.TypeProto()) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in (inits or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)
