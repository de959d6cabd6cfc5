"""Golden IR files: each parses, verifies and prints back byte for byte; together they use
every declared op."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import archir

GOLDEN = Path(__file__).parent / "golden" / "ir"
FILES = sorted(GOLDEN.glob("*.air"))


def test_golden_files_exist():
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_round_trips_byte_for_byte(path: Path):
    text = path.read_text()
    module = archir.parse(text, filename=str(path))
    archir.verify(module)
    printed = archir.to_text(module)
    assert printed == text
    assert str(module) == text
    reparsed = archir.parse(printed)
    assert archir.structurally_equal(module, reparsed)
    assert archir.structural_hash(module) == archir.structural_hash(reparsed)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_clone_prints_the_same_and_shares_nothing(path: Path):
    module = archir.parse(path.read_text())
    copy = module.clone()
    assert archir.to_text(copy) == archir.to_text(module)
    archir.verify(copy)

    def objects(m: archir.Module) -> set[int]:
        ids = set()
        for g in m.graphs.values():
            ids.update(id(v) for v in g.args)
            for op in g.ops:
                ids.add(id(op))
                ids.update(id(r) for r in op.results)
                if op.kernel is not None:
                    ids.add(id(op.kernel))
        return ids

    assert not objects(module) & objects(copy)
    # The clone is independent: editing it leaves the original as it was.
    before = archir.to_text(module)
    for g in copy.graphs.values():
        g.ops.clear()
    assert archir.to_text(module) == before


def test_every_declared_op_appears_in_a_golden_file():
    used = {op.name for path in FILES for _, op in archir.parse(path.read_text()).walk()}
    missing = sorted(set(archir.OPS) - used)
    assert not missing, f"ops without a golden example: {missing}"
    assert used <= set(archir.OPS)


def test_every_op_family_and_kernel_attribute_is_exercised():
    families = {archir.OPS[op.name].family for path in FILES
                for _, op in archir.parse(path.read_text()).walk()}
    assert families == {d.family for d in archir.OPS.values()}
    kernel_attrs = set()
    for path in FILES:
        for g in archir.parse(path.read_text()).graphs.values():
            for kernel, _ in g.kernels():
                kernel_attrs |= {k for k, v in kernel.attrs.items()
                                 if v != archir.ir.KERNEL_ATTRS[k].default}
    assert kernel_attrs == set(archir.ir.KERNEL_ATTRS)


def test_kernel_regions_are_read_as_separate_kernels():
    module = archir.parse((GOLDEN / "kernels.air").read_text())
    main = module.graphs["main"]
    regions = [(k.attrs["target"], k.impl, [op.name for op in ops]) for k, ops in main.kernels()]
    assert regions == [
        ("adreno640", "winograd_4x4_6x6", ["conv2d", "batch_norm", "relu6"]),
        ("adreno640", "", ["conv2d"]),
        ("adreno640", "conv_buffer_1x1", ["conv2d", "add"]),
        ("tflite-cpu", "xnnpack", ["call"]),
    ]
    first = main.ops[0].kernel
    assert first.attrs["block"] == (4, 4, 1, 2)
    assert first.latency_us == 152.5 and first.attrs["splits"] == 2
    assert main.ops[3].kernel.latency_us is None  # -1: not annotated
    assert main.ops[6].kernel is None


def test_locations_and_escapes_survive():
    module = archir.parse((GOLDEN / "locs.air").read_text())
    locs = [op.loc for op in module.main.ops]
    assert locs == [
        "features.0 (torchvision/models/mobilenetv2.py:166)",
        'onnx node "BatchNormalization_3"',
        "C:\\models\\net.py:12",
        "multi\nline",
        "",
        None,
    ]
    assert [a.name_hint for a in module.main.args] == ["input.1"]


def test_symbolic_dims_are_kept():
    module = archir.parse((GOLDEN / "attention.air").read_text())
    types = {op.results[0].name_hint: op.results[0].type for op in module.main.ops}
    assert types["alibi"].shape == (1, 4, "S", "S")
    assert types["mk"].shape == ("N", "T", 64)
    assert types["mqa"].shape == ("N", "S", 128)
    assert not types["mqa"].is_static and types["eye"].is_static


_PRINT_ALL = """
import sys, archir
for path in sys.argv[1:]:
    m = archir.parse(open(path).read())
    print(archir.structural_hash(m))
    print(archir.to_text(m), end="")
"""


def test_printing_and_hashing_do_not_depend_on_the_process():
    # String hashing is salted per process: anything that iterated a set would show here.
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _PRINT_ALL, *map(str, FILES)], env=env,
                              capture_output=True, text=True, check=True)
        outputs.append(done.stdout)
    here = "".join(archir.structural_hash(m) + "\n" + archir.to_text(m)
                   for m in (archir.parse(p.read_text()) for p in FILES))
    assert outputs[0] == outputs[1] == here
