"""ONNX → IR converters, one small model per case: the IR has the expected ops, survives
the text round trip, and emitted back to ONNX computes what onnxruntime computes on the
original (converters are picked by opset, so several cases pin an opset)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx_check import ATOL, RTOL, make_model, run

import archir

R = np.random.default_rng(0)
I64 = TensorProto.INT64


def w(*shape, scale=0.3):
    return (R.standard_normal(shape) * scale).astype(np.float32)


def ints(*values):
    return np.array(values, np.int64)


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


X4 = {"x": (2, 3, 8, 8)}

# name: (model, expected IR op kinds in order (constants/parameters left out))
CASES = {
    "conv_same_upper_stride2": (make_model(
        [node("Conv", ["x", "w", "b"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])], X4, ["y"],
        {"w": w(4, 3, 3, 3), "b": w(4)}), ["conv2d"]),
    "conv_grouped_dilated_asymmetric": (make_model(
        [node("Conv", ["x", "w"], ["y"], group=3, dilations=[2, 1], pads=[1, 0, 2, 1])], X4, ["y"],
        {"w": w(6, 1, 3, 3)}), ["conv2d"]),
    "conv1d": (make_model(
        [node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1])], {"x": (2, 3, 10)}, ["y"],
        {"w": w(5, 3, 3), "b": w(5)}), ["conv1d"]),
    "conv_transpose": (make_model(
        [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
              output_padding=[1, 1])], X4, ["y"], {"w": w(3, 4, 3, 3), "b": w(4)}), ["conv_transpose2d"]),
    "gemm_alpha_beta_transA": (make_model(
        [node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0, transA=1)], {"x": (6, 4)}, ["y"],
        {"w": w(6, 5), "b": w(5)}), ["transpose", "linear"]),
    "gemm_dynamic_b": (make_model(
        [node("Gemm", ["x", "z", "b"], ["y"], transB=1, alpha=1.5)], {"x": (4, 6), "z": (5, 6)}, ["y"],
        {"b": w(1, 5)}), ["transpose", "matmul", "mul", "add"]),
    "matmul_add_is_one_linear": (make_model(
        [node("MatMul", ["x", "w"], ["h"]), node("Add", ["b", "h"], ["y"])], {"x": (2, 7, 6)}, ["y"],
        {"w": w(6, 5), "b": w(5)}), ["linear"]),
    "matmul_add_used_twice_stays_apart": (make_model(
        [node("MatMul", ["x", "w"], ["h"]), node("Add", ["h", "b"], ["y"]), node("Relu", ["h"], ["z"])],
        {"x": (2, 6)}, ["y", "z"], {"w": w(6, 5), "b": w(5)}), ["linear", "add", "relu"]),
    "matmul_batched_and_vector": (make_model(
        [node("MatMul", ["x", "z"], ["h"]), node("MatMul", ["h", "v"], ["y"])],
        {"x": (2, 3, 4), "z": (2, 4, 5)}, ["y"], {"v": w(5)}), ["matmul", "linear", "squeeze"]),
    "batch_norm": (make_model(
        [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)], X4, ["y"],
        {"s": w(3), "b": w(3), "m": w(3), "v": np.abs(w(3)) + 0.5}), ["batch_norm"]),
    "instance_norm": (make_model(
        [node("InstanceNormalization", ["x", "s", "b"], ["y"])], X4, ["y"], {"s": w(3), "b": w(3)}),
        ["instance_norm"]),
    "layer_norm_17": (make_model(
        [node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-2)], X4, ["y"],
        {"s": w(8, 8), "b": w(8, 8)}), ["layer_norm"]),
    "group_norm_21_per_channel": (make_model(
        [node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2)], {"x": (2, 4, 5, 5)},
        [("y", (2, 4, 5, 5))], {"s": w(4), "b": w(4)}, opset=21), ["group_norm"]),
    "lrn": (make_model([node("LRN", ["x"], ["y"], size=3, alpha=0.01, beta=0.6, bias=2.0)], X4, ["y"]),
            ["lrn"]),
    "pools_9": (make_model(
        [node("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0]),
         node("AveragePool", ["a"], ["b"], kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
         node("GlobalMaxPool", ["b"], ["y"])], X4, ["y"], opset=9),
        ["max_pool2d", "avg_pool2d", "global_max_pool"]),
    "pools_ceil_count_pad": (make_model(
        [node("MaxPool", ["x"], ["a"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1, dilations=[1, 1]),
         node("AveragePool", ["x"], ["b"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
              count_include_pad=1),
         node("GlobalAveragePool", ["b"], ["y"])], X4, ["a", "y"]),
        ["max_pool2d", "avg_pool2d", "global_avg_pool"]),
    "activations": (make_model(
        [node("LeakyRelu", ["x"], ["a"], alpha=0.2), node("Elu", ["a"], ["b"], alpha=0.7),
         node("Selu", ["b"], ["c"]), node("HardSigmoid", ["c"], ["d"]),
         node("HardSwish", ["d"], ["e"]), node("Softplus", ["e"], ["f"]), node("Tanh", ["f"], ["g"]),
         node("Clip", ["g", "lo", "hi"], ["h"]), node("Clip", ["h", "zero", "six"], ["y"])], X4, ["y"],
        {"lo": np.float32(-0.5), "hi": np.float32(0.5), "zero": np.float32(0), "six": np.float32(6)}),
        ["leaky_relu", "elu", "elu", "mul", "mul", "add", "clip", "hardswish", "softplus", "tanh", "clip",
         "relu6"]),
    "clip_9_and_prelu": (make_model(
        [node("Clip", ["x"], ["a"], min=-1.0, max=2.0), node("PRelu", ["a", "s"], ["y"])], X4, ["y"],
        {"s": w(3, 1, 1)}, opset=9), ["clip", "prelu"]),
    "gelu_20": (make_model([node("Gelu", ["x"], ["a"]), node("Gelu", ["a"], ["y"], approximate="tanh")],
                           X4, ["y"], opset=20), ["gelu", "gelu"]),
    "softmax_11_coerces_to_2d": (make_model(
        [node("Softmax", ["x"], ["y"], axis=1), node("LogSoftmax", ["x"], ["z"], axis=3)], X4, ["y", "z"],
        opset=11), ["flatten", "softmax", "reshape", "log_softmax"]),
    "softmax_13_axis": (make_model([node("Softmax", ["x"], ["y"], axis=1)], X4, ["y"]), ["softmax"]),
    "binary_broadcast_variadic": (make_model(
        [node("Mul", ["x", "s"], ["a"]), node("Sub", ["two", "a"], ["b"]),
         node("Sum", ["a", "b", "x"], ["c"]), node("Max", ["c", "x"], ["d"]),
         node("Mean", ["d", "a"], ["e"]), node("Pow", ["e", "p"], ["f"]), node("Div", ["f", "two"], ["y"])],
        X4, ["y"], {"s": w(3, 1, 1), "two": np.float32(2.0), "p": np.int64(2)}),
        ["mul", "sub", "add", "add", "maximum", "add", "div", "pow", "div"]),
    "where_compare": (make_model(
        [node("Greater", ["x", "zero"], ["c"]), node("Where", ["c", "x", "s"], ["y"])], X4, ["y"],
        {"zero": np.float32(0), "s": w(8)}), ["greater", "where"]),
    "integer_div_truncates": (make_model(
        [node("Cast", ["x"], ["i"], to=I64), node("Div", ["i", "d"], ["q"]),
         node("Cast", ["q"], ["y"], to=TensorProto.FLOAT)],
        {"x": (4, 5)}, ["y"], {"d": ints(3, -2, 4, -5, 2)}),
        ["cast", "sign", "sign", "mul", "abs", "abs", "div", "mul", "cast"]),
    "reshape_flatten_transpose_concat": (make_model(
        [node("Reshape", ["x", "shape"], ["a"]), node("Transpose", ["a"], ["b"], perm=[0, 2, 1]),
         node("Flatten", ["b"], ["c"], axis=1), node("Concat", ["c", "k"], ["y"], axis=1)], X4, ["y"],
        {"shape": ints(0, 3, -1), "k": w(2, 5)}), ["reshape", "transpose", "flatten", "concat"]),
    "flatten_axis_0_and_2": (make_model(
        [node("Flatten", ["x"], ["a"], axis=0), node("Flatten", ["x"], ["b"], axis=2)], X4, ["a", "b"]),
        ["flatten", "unsqueeze", "flatten", "flatten"]),
    "squeeze_unsqueeze_11": (make_model(
        [node("Unsqueeze", ["x"], ["a"], axes=[0, 3]), node("Squeeze", ["a"], ["y"], axes=[0])], X4, ["y"],
        opset=11), ["unsqueeze", "squeeze"]),
    "squeeze_unsqueeze_13": (make_model(
        [node("Unsqueeze", ["x", "ax"], ["a"]), node("Squeeze", ["a", "ax"], ["y"])], X4, ["y"],
        {"ax": ints(-1)}), ["unsqueeze", "squeeze"]),
    "split_11_13_18": (make_model(
        [node("Split", ["x", "sz"], ["a", "b"], axis=2), node("Split", ["b"], ["c", "d", "e"], axis=3,
                                                                num_outputs=3)],
        X4, ["a", "c", "e"], {"sz": ints(3, 5)}, opset=18), ["split", "split"]),
    "split_11_attr": (make_model([node("Split", ["x"], ["a", "b"], axis=1, split=[1, 2])], X4, ["a", "b"],
                                 opset=11), ["split"]),
    "slice_10_negative_steps": (make_model(
        [node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], X4, ["y"],
        {"st": ints(-1, 1), "en": ints(-(2 ** 63), 2 ** 62), "ax": ints(3, 2), "sp": ints(-2, 3)}),
        ["slice"]),
    "slice_9_attrs": (make_model([node("Slice", ["x"], ["y"], starts=[1, 0], ends=[100, -2], axes=[1, 3])],
                                 X4, ["y"], opset=9), ["slice"]),
    "gather_index_kinds": (make_model(
        [node("Gather", ["x", "i0"], ["a"], axis=1), node("Gather", ["x", "run"], ["b"], axis=3),
         node("Gather", ["x", "mix"], ["c"], axis=2), node("Gather", ["table", "ids"], ["d"])],
        {"x": (2, 3, 8, 8), "ids": (2, 5)}, ["a", "b", "c", "d"],
        {"i0": np.int64(-1), "run": ints(6, 4, 2), "mix": ints(3, 0, 3), "table": w(10, 4)},
        dtypes={"ids": I64}), ["slice", "squeeze", "slice", "gather", "embedding"]),
    "expand_pad_11_reflect": (make_model(
        [node("Expand", ["x", "shp"], ["a"]), node("Pad", ["a", "pads"], ["y"], mode="reflect")],
        {"x": (2, 3, 1, 8)}, ["y"], {"shp": ints(1, 3, 4, 1), "pads": ints(0, 0, 1, 2, 0, 0, 2, 1)}),
        ["expand", "pad"]),
    "pad_9_constant": (make_model([node("Pad", ["x"], ["y"], pads=[0, 0, 1, 0, 0, 1, 0, 2], value=1.5)],
                                  X4, ["y"], opset=9), ["pad"]),
    "pad_18_axes_edge": (make_model([node("Pad", ["x", "pads", "", "axes"], ["y"], mode="edge")], X4, ["y"],
                                    {"pads": ints(2, 1, 0, 3), "axes": ints(-1, 2)}, opset=18), ["pad"]),
    "resize_modes": (make_model(
        [node("Resize", ["x", "", "sc"], ["a"], mode="nearest", coordinate_transformation_mode="asymmetric",
              nearest_mode="floor"),
         node("Resize", ["a", "", "", "sz"], ["b"], mode="linear"),
         node("Resize", ["b", "", "", "sz2"], ["y"], mode="cubic",
              coordinate_transformation_mode="align_corners")],
        X4, ["y"], {"sc": np.array([1, 1, 2, 3], np.float32), "sz": ints(2, 3, 11, 13),
                    "sz2": ints(2, 3, 7, 9)}), ["resize", "resize", "resize"]),
    "resize_round_prefer_floor_doubling": (make_model(
        [node("Resize", ["x", "", "sc"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric")],
        X4, ["y"], {"sc": np.array([1, 1, 2, 2], np.float32)}), ["resize"]),
    "upsample_9": (make_model([node("Upsample", ["x", "sc"], ["y"])], X4, ["y"],
                              {"sc": np.array([1, 1, 2, 2], np.float32)}, opset=9), ["resize"]),
    "reduce_13_and_18": (make_model(
        [node("ReduceMean", ["x"], ["a"], axes=[2, 3], keepdims=1), node("ReduceSum", ["a", "ax"], ["b"])],
        X4, ["b"], {"ax": ints(1)}), ["reduce_mean", "reduce_sum"]),
    "reduce_18_argmax": (make_model(
        [node("ReduceMax", ["x", "ax"], ["a"], keepdims=0), node("ArgMax", ["a"], ["y"], axis=1)],
        X4, ["a", "y"], {"ax": ints(-1)}, opset=18), ["reduce_max", "argmax"]),
    "dropout_12_identity_cast": (make_model(
        [node("Dropout", ["x", "r"], ["a"]), node("Identity", ["a"], ["b"]),
         node("Cast", ["b"], ["y"], to=TensorProto.DOUBLE)], X4, ["y"], {"r": np.float32(0.2)}),
        ["dropout", "cast"]),
    "constant_folding": (make_model(
        [node("Constant", [], ["c"], value=helper.make_tensor("c", TensorProto.FLOAT, [3], [1, 2, 3])),
         node("Unsqueeze", ["c", "ax"], ["c2"]), node("Unsqueeze", ["c2", "ax"], ["c3"]),
         node("Shape", ["x"], ["s"]), node("Gather", ["s", "zero"], ["n"]),
         node("Concat", ["n", "minus1"], ["shape"], axis=0),
         node("Mul", ["x", "c3"], ["m"]), node("Reshape", ["m", "shape"], ["y"])], X4, ["y"],
        {"ax": ints(-1), "zero": ints(0), "minus1": ints(-1)}), ["mul", "reshape"]),
    "attention_23": (make_model(
        [node("Attention", ["q", "k", "v"], ["y"], q_num_heads=4, kv_num_heads=2, is_causal=1)],
        {"q": (2, 5, 16), "k": (2, 5, 8), "v": (2, 5, 12)}, ["y"], opset=23), ["attention"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_converter(name):
    model, expected_ops = CASES[name]
    module = archir.from_onnx(model)
    ops = [op.name for op in module.main.ops if op.name not in ("constant", "parameter")]
    assert ops == expected_ops
    text = archir.to_text(module)
    assert archir.to_text(archir.parse(text)) == text
    feeds = []
    for vi in model.graph.input:
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        if vi.type.tensor_type.elem_type == I64:
            feeds.append(R.integers(0, 10, shape).astype(np.int64))
        else:
            feeds.append(R.standard_normal(shape).astype(np.float32) * 3)
    expected = run(model, *feeds)
    opset = max(18, model.opset_import[0].version)
    got = run(archir.to_onnx(module, opset=opset), *feeds)
    for e, g in zip(expected, got, strict=True):
        assert e.shape == g.shape and e.dtype == g.dtype
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)


def test_symbolic_batch_survives_reshape_to_minus_one():
    # the shape the torch.export-based exporter writes for x.view(-1, 512)
    nodes = [node("GlobalAveragePool", ["x"], ["p"]), node("Reshape", ["p", "s"], ["y"], allowzero=1)]
    model = make_model(nodes, {"x": ("batch", 8, 4, 4)}, ["y"], {"s": ints(-1, 8)}, opset=20)
    module = archir.from_onnx(model)
    assert str(module.main.output_types[0]) == "f32[batch, 8]"
    out = archir.to_onnx(module)
    assert out.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (1, 3):
        x = R.standard_normal((n, 8, 4, 4)).astype(np.float32)
        np.testing.assert_allclose(run(out, x)[0], run(model, x)[0], rtol=RTOL, atol=ATOL)


def test_shape_computed_at_run_time_uses_inferred_shape():
    # the legacy exporter's x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat → Reshape
    nodes = [node("Shape", ["x"], ["s"]), node("Gather", ["s", "zero"], ["n"]),
             node("Unsqueeze", ["n", "ax"], ["n1"]), node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             node("Reshape", ["x", "shape"], ["y"])]
    model = make_model(nodes, {"x": ("N", 3, 4, 4)}, ["y"],
                       {"zero": np.int64(0), "ax": ints(0), "minus1": ints(-1)})
    module = archir.from_onnx(model)
    assert [op.name for op in module.main.ops] == ["reshape"]
    assert str(module.main.output_types[0]) == "f32[N, 48]"
    x = R.standard_normal((5, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(run(archir.to_onnx(module), x)[0], x.reshape(5, 48))


def test_names_and_locations_come_from_the_onnx_graph():
    model = make_model([node("Relu", ["input.1"], ["/stem/relu/Relu_output_0"], name="/stem/relu/Relu")],
                       {"input.1": (1, 4)}, ["/stem/relu/Relu_output_0"])
    text = archir.to_text(archir.from_onnx(model))
    assert '%stem.relu.Relu = relu(%input.1) : f32[1, 4] loc("/stem/relu/Relu (Relu)")' in text


def test_inconsistent_dim_params_are_sanitised_to_symbols():
    model = make_model([node("Relu", ["x"], ["y"])], {"x": ("batch size", "2*s")}, ["y"])
    module = archir.from_onnx(model)
    assert str(module.main.input_types[0]) == "f32[batch_size, d2_s]"


def test_imported_weights_survive_save_and_load(tmp_path):
    model, _ = CASES["binary_broadcast_variadic"]
    module = archir.from_onnx(model)
    assert any(op.name == "parameter" and op.weights for op in module.main.ops)
    archir.save(module, tmp_path / "net.air")
    loaded = archir.load(tmp_path / "net.air")
    x = R.standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(run(archir.to_onnx(loaded), x)[0], run(archir.to_onnx(module), x)[0])
