"""Structural hash: what an architecture is, not how its text happens to be written."""

import numpy as np

import archir

BASE = """graph @main(%x: f32[N, 8, 16, 16]) -> (f32[N, 8, 16, 16]) {
  %a = conv2d(%x) {out_channels = 8, kernel = [3, 3], padding = [1, 1]} : f32[N, 8, 16, 16]
  %b = conv2d(%x) {out_channels = 8, kernel = [1, 1]} : f32[N, 8, 16, 16]
  %ra = relu(%a) : f32[N, 8, 16, 16]
  %rb = sigmoid(%b) : f32[N, 8, 16, 16]
  %s = add(%ra, %rb) : f32[N, 8, 16, 16]
  %d = sub(%s, %x) : f32[N, 8, 16, 16]
  return %d
}
"""


def h(text: str) -> str:
    return archir.structural_hash(archir.parse(text))


def test_hash_is_a_stable_hex_digest():
    assert h(BASE) == h(BASE)
    assert len(h(BASE)) == 32 and int(h(BASE), 16) >= 0


def test_renaming_values_keeps_the_hash():
    renamed = (BASE.replace("%a", "%conv3").replace("%b", "%conv1").replace("%ra", "%7")
               .replace("%x", "%input"))
    assert renamed != BASE
    assert h(renamed) == h(BASE)


def test_reordering_independent_ops_keeps_the_hash():
    lines = BASE.split("\n")
    lines[1], lines[2] = lines[2], lines[1]  # the two convs
    lines[3], lines[4] = lines[4], lines[3]  # the two activations
    reordered = "\n".join(lines)
    assert reordered != BASE
    assert h(reordered) == h(BASE)


def test_name_hints_and_locations_do_not_count():
    a = archir.parse(BASE)
    b = archir.parse(BASE)
    for i, op in enumerate(b.main.ops):
        op.loc = f"model.py:{i}"
        op.results[0].name_hint = f"v{i}"
    assert archir.to_text(a) != archir.to_text(b)
    assert archir.structurally_equal(a, b)


def test_weights_and_dead_ops_do_not_count():
    a = archir.parse(BASE)
    b = archir.parse(BASE.replace("  return %d", "  %dead = tanh(%d) : f32[N, 8, 16, 16]\n  return %d"))
    b.main.ops[1].weights = {"weight": np.ones((8, 8, 1, 1), np.float32),
                             "bias": np.zeros(8, np.float32)}
    archir.verify(b)
    assert archir.structurally_equal(a, b)


def test_changing_an_attribute_changes_the_hash():
    assert h(BASE.replace("kernel = [1, 1]", "kernel = [1, 1], bias = false")) != h(BASE)
    changed = BASE.replace("kernel = [3, 3], padding = [1, 1]", "kernel = [5, 5], padding = [2, 2]")
    assert h(changed) != h(BASE)


def test_changing_a_type_changes_the_hash():
    assert h(BASE.replace("16, 16]", "32, 32]")) != h(BASE)
    assert h(BASE.replace("f32[", "f16[")) != h(BASE)


def test_changing_an_op_kind_or_the_outputs_changes_the_hash():
    assert h(BASE.replace("relu(", "relu6(")) != h(BASE)
    assert h(BASE.replace("return %d", "return %s")) != h(BASE)


def test_duplicating_a_parallel_conv_changes_the_hash():
    head = "graph @main(%x: f32[N, 8, 16, 16]) -> (f32[N, 8, 16, 16]) {\n"
    conv = "conv2d(%x) {out_channels = 8, kernel = [1, 1]} : f32[N, 8, 16, 16]\n"
    shared = head + f"  %a = {conv}  %s = add(%a, %a) : f32[N, 8, 16, 16]\n  return %s\n}}\n"
    twin = (head + f"  %a = {conv}  %b = {conv}  %s = add(%a, %b) : f32[N, 8, 16, 16]\n"
            "  return %s\n}\n")
    assert h(shared) != h(twin)


def test_commutative_operands_may_swap_others_may_not():
    assert h(BASE.replace("add(%ra, %rb)", "add(%rb, %ra)")) == h(BASE)
    assert h(BASE.replace("sub(%s, %x)", "sub(%x, %s)")) != h(BASE)


def test_kernel_attributes_count():
    wrapped = BASE.replace("  %s = add(%ra, %rb) : f32[N, 8, 16, 16]\n",
                           '  kernel {target = "adreno640"} {\n'
                           "    %s = add(%ra, %rb) : f32[N, 8, 16, 16]\n  }\n")
    annotated = wrapped.replace('"adreno640"}', '"adreno640", impl = "elementwise"}')
    assert len({h(BASE), h(wrapped), h(annotated)}) == 3


CELLS = """graph @main(%x: f32[1, 4]) -> (f32[1, 4]) {
  %0 = call(%x) {callee = @cell} : f32[1, 4]
  return %0
}

graph @cell(%x: f32[1, 4]) -> (f32[1, 4]) {
  %0 = relu(%x) : f32[1, 4]
  return %0
}
"""


def test_cells_hash_by_content_not_by_name():
    assert h(CELLS.replace("@cell", "@block")) == h(CELLS)
    assert h(CELLS.replace("relu", "gelu")) != h(CELLS)


def test_search_space_domains_count():
    space = """param $k = [3, 5]

graph @main(%x: f32[1, 4, 8, 8]) -> (f32[1, 4, 8, 8]) {
  %0 = conv2d(%x) {out_channels = 4, kernel = $k, padding = "same"} : f32[1, 4, 8, 8]
  return %0
}
"""
    assert h(space.replace("$k", "$kernel")) == h(space)
    assert h(space.replace("[3, 5]", "[3, 7]")) != h(space)
