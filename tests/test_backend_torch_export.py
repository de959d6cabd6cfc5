"""``archir export``: model.py + weights.npz that load with nothing but torch (and numpy)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import torch

import archir
from archir import GraphBuilder, Module, TensorType
from archir.backends.torch import to_torch_source
from archir.cli import main


def _module_with_weights() -> Module:
    rng = np.random.default_rng(0)
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", ("N", 3, 8, 8)), "image")
    y = b.conv2d(x, out_channels=4, kernel=3, padding=1, name="stem",
                 weights={"weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                          "bias": rng.standard_normal(4).astype(np.float32)})
    y = b.batch_norm(y, name="bn", weights={
        "weight": rng.random(4, dtype=np.float32), "bias": rng.random(4, dtype=np.float32),
        "running_mean": rng.random(4, dtype=np.float32), "running_var": rng.random(4, dtype=np.float32) + 1})
    y = b.flatten(b.global_avg_pool(b.hardswish(y)))
    y = b.add(y, b.parameter(shape=(1, 4), name="shift", weights={"value": np.full((1, 4), 0.5, np.float32)}))
    b.ret(b.linear(y, out_features=3, name="head"))  # no IR weights: initialised by PyTorch
    return Module([b.graph])


def test_export_torch_writes_a_standalone_model_and_weights(tmp_path, capsys):
    module = _module_with_weights()
    archir.save(module, tmp_path / "net.air")
    out = tmp_path / "export"
    assert main(["export", str(tmp_path / "net.air"), "--to", "torch", "-o", str(out)]) == 0
    assert "model.py" in capsys.readouterr().out
    with np.load(out / "weights.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "shift",
                                      "stem.bias", "stem.weight"]
    # the head has no IR weights: copy the reference model's into the file so outputs can match
    reference = archir.to_torch(module)
    weights = dict(np.load(out / "weights.npz"))
    weights.update({k: v.numpy() for k, v in reference.state_dict().items() if k.startswith("head.")})
    np.savez(tmp_path / "all.npz", **weights)
    x = torch.randn(2, 3, 8, 8)
    np.save(tmp_path / "x.npy", x.numpy())
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import torch
        sys.path.insert(0, {str(out)!r})
        import model
        net = model.load_weights(model.Model(), {str(tmp_path / "all.npz")!r}).eval()
        with torch.no_grad():
            y = net(torch.from_numpy(np.load({str(tmp_path / "x.npy")!r})))
        np.save({str(tmp_path / "y.npy")!r}, y.numpy())
        print(sorted(m for m in sys.modules if m.split(".")[0] == "archir"))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # the generated file never imports archir
    with torch.no_grad():
        np.testing.assert_allclose(np.load(tmp_path / "y.npy"), reference(x).numpy(), atol=1e-6)


def test_export_without_weights_writes_no_weights_file(tmp_path):
    module = archir.load(archir.__file__.replace("archir/__init__.py", "examples/mobilenet_v2_small.air"))
    archir.save(module, tmp_path / "m.air")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "weights.npz").write_bytes(b"stale")
    assert main(["export", str(tmp_path / "m.air"), "--to", "torch", "-o", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "model.py").read_text() == to_torch_source(module)
    assert not (tmp_path / "out" / "weights.npz").exists()


def test_export_reports_what_it_cannot_emit(tmp_path, capsys):
    (tmp_path / "space.air").write_text(
        "param $k = [3, 5]\n\n"
        "graph @main(%x: f32[N, 4, 8, 8]) -> (f32[N, 4, 8, 8]) {\n"
        '  %c = conv2d(%x) {out_channels = 4, kernel = $k, padding = "same"} : f32[N, 4, 8, 8]\n'
        "  return %c\n}\n")
    assert main(["export", str(tmp_path / "space.air"), "--to", "torch", "-o", str(tmp_path / "o")]) == 1
    assert "archir.specialize" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    module = _module_with_weights()
    archir.save(module, tmp_path / "net.air")
    assert main(["export", str(tmp_path / "net.air"), "--to", "torch", "-o", str(tmp_path / "file")]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_export_onnx_agrees_with_the_torch_backend(tmp_path, capsys):
    rng = np.random.default_rng(1)
    b = GraphBuilder("main")
    x = b.arg(TensorType("f32", (2, 3, 8, 8)), "image")
    y = b.relu(b.conv2d(x, out_channels=4, kernel=3, stride=2, padding=1,
                        weights={"weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                                 "bias": rng.standard_normal(4).astype(np.float32)}))
    y = b.linear(b.flatten(b.global_avg_pool(y)), out_features=3,
                 weights={"weight": rng.standard_normal((3, 4)).astype(np.float32),
                          "bias": rng.standard_normal(3).astype(np.float32)})
    b.ret(y)
    module = Module([b.graph])
    archir.save(module, tmp_path / "net.air")
    code = main(["export", str(tmp_path / "net.air"), "--to", "onnx", "-o", str(tmp_path / "out")])
    assert code == 0
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp_path / "out" / "model.onnx"), providers=["CPUExecutionProvider"])
    data = np.random.default_rng(2).standard_normal((2, 3, 8, 8)).astype(np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: data})
    with torch.no_grad():
        want = archir.to_torch(module)(torch.from_numpy(data)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
