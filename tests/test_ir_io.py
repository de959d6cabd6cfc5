"""save/load: the .air text, with weights in an .npz beside it."""

from pathlib import Path

import numpy as np
import pytest

import archir

GOLDEN = Path(__file__).parent / "golden" / "ir"


def with_weights(module: archir.Module) -> dict[str, np.ndarray]:
    """Give every op that declares weights distinct arrays of the declared shapes."""
    given = {}
    seed = 0
    for g in module.graphs.values():
        for op in g.ops:
            if op.opdef.params is None:
                continue
            ins = tuple(v.type for v in op.operands)
            shapes = op.opdef.params(ins, op.attrs)
            if not shapes:
                continue
            op.weights = {}
            for key, shape in shapes.items():
                seed += 1
                array = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + seed / 8
                op.weights[key] = array
                given[f"{g.name}/{op.results[0].name_hint}/{key}"] = array
    return given


def test_weights_round_trip(tmp_path: Path):
    text = (GOLDEN / "weights.air").read_text()
    module = archir.parse(text)
    given = with_weights(module)
    archir.verify(module)
    assert sorted(given) == [
        "cell/proj/bias", "cell/proj/weight",
        "main/act/weight",
        "main/bn/bias", "main/bn/running_mean", "main/bn/running_var", "main/bn/weight",
        "main/conv/bias", "main/conv/weight",
        "main/emb/weight", "main/fc/weight",
        "main/ln/bias", "main/ln/weight",
        "main/pos/value",
    ]

    path = tmp_path / "net.air"
    archir.save(module, path)
    assert path.read_text() == text  # weights never show in the text
    with np.load(tmp_path / "net.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(given)

    loaded = archir.load(path)
    assert archir.to_text(loaded) == text
    found = {}
    for g in loaded.graphs.values():
        for op in g.ops:
            for key, array in (op.weights or {}).items():
                found[f"{g.name}/{op.results[0].name_hint}/{key}"] = array
    assert sorted(found) == sorted(given)
    for key, array in given.items():
        assert found[key].dtype == array.dtype
        np.testing.assert_array_equal(found[key], array)
    assert loaded.main.ops[0].weights["weight"].shape == (4, 3, 3, 3)


def test_weights_follow_printed_names_of_unnamed_values(tmp_path: Path):
    b = archir.GraphBuilder()
    x = b.arg(archir.TensorType("f32", (2, 3)))
    w = np.full((5, 3), 2.0, np.float32)
    y = b.linear(x, out_features=5, bias=False, weights={"weight": w})
    w2 = np.full((5, 5), 3.0, np.float32)
    b.ret(b.linear(y, out_features=5, bias=False, weights={"weight": w2}))
    path = tmp_path / "m.air"
    archir.save(archir.Module([b.graph]), path)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["main/1/weight", "main/2/weight"]
    loaded = archir.load(path)
    np.testing.assert_array_equal(loaded.main.ops[0].weights["weight"], w)
    np.testing.assert_array_equal(loaded.main.ops[1].weights["weight"], w2)


def test_saving_without_weights_removes_a_stale_weights_file(tmp_path: Path):
    module = archir.parse((GOLDEN / "weights.air").read_text())
    with_weights(module)
    path = tmp_path / "net.air"
    archir.save(module, path)
    assert (tmp_path / "net.npz").exists()
    archir.save(archir.parse((GOLDEN / "weights.air").read_text()), path)
    assert not (tmp_path / "net.npz").exists()
    assert all(op.weights is None for _, op in archir.load(path).walk())


def test_weights_of_the_wrong_shape_are_rejected(tmp_path: Path):
    module = archir.parse((GOLDEN / "weights.air").read_text())
    given = with_weights(module)
    path = tmp_path / "net.air"
    archir.save(module, path)
    given["main/conv/weight"] = np.zeros((4, 3, 5, 5), np.float32)
    np.savez(tmp_path / "net.npz", **given)
    with pytest.raises(archir.VerifyError, match="'conv2d': weights .* do not match the declared"):
        archir.load(path)


def test_weights_for_an_unknown_op_are_rejected(tmp_path: Path):
    path = tmp_path / "net.air"
    path.write_text((GOLDEN / "weights.air").read_text())
    np.savez(tmp_path / "net.npz", **{"main/nonexistent/weight": np.zeros(3, np.float32)})
    with pytest.raises(archir.VerifyError, match="belong to no op"):
        archir.load(path)


def test_object_arrays_are_never_unpickled(tmp_path: Path):
    path = tmp_path / "net.air"
    path.write_text((GOLDEN / "weights.air").read_text())
    np.savez(tmp_path / "net.npz", **{"main/fc/weight": np.array([object()] * 16).reshape(4, 4)})
    with pytest.raises(ValueError, match="allow_pickle"):
        archir.load(path)
