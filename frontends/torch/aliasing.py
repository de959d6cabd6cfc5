"""Which exported nodes are constants, and whether in-place ops can be read as functional.

torch.export's graph keeps PyTorch's in-place ops (``relu_``, ``add_``, ``fill_`` on a slice).
Lowering reads ``y = op_(x)`` as ``y = op(x)`` and rebinds ``x`` to ``y`` from then on. That
is exact unless another alias of ``x`` (a view taken before the write, or the tensor ``x`` is a
view of) is read after it, or the write lands in a constant from input data; then the program
has to be functionalized first.
"""

from __future__ import annotations

from collections import defaultdict

from torch import fx
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind

from archir.frontends.torch.nodes import is_inplace, is_view, op_name

# Ops whose tensor arguments only supply shape/dtype/device: constant whatever they are given.
_METADATA_ONLY = frozenset({
    "aten.new_zeros", "aten.new_ones", "aten.new_full", "aten.new_empty", "aten.zeros_like",
    "aten.ones_like", "aten.full_like", "aten.empty_like", "aten.sym_size", "aten.sym_numel",
})
# Ops that draw random numbers are never folded.
_RANDOM = frozenset({
    "aten.rand", "aten.randn", "aten.randint", "aten.randperm", "aten.rand_like", "aten.randn_like",
    "aten.randint_like", "aten.bernoulli", "aten.bernoulli_", "aten.normal", "aten.normal_",
    "aten.uniform_", "aten.exponential_", "aten.multinomial", "aten.native_dropout",
})
_CONST_INPUTS = (InputKind.PARAMETER, InputKind.BUFFER, InputKind.CONSTANT_TENSOR)


def packet(node: fx.Node) -> str:
    return op_name(node).rsplit(".", 1)[0]


def _is_random(node: fx.Node) -> bool:
    name = packet(node)
    if name in _RANDOM:
        return True
    # dropout is random only in training mode (its `train` argument)
    return name in ("aten.dropout", "aten.dropout_", "aten.feature_dropout",
                    "aten.alpha_dropout") and bool(node.args[2] if len(node.args) > 2 else False)


def constant_nodes(ep: ExportedProgram) -> set[fx.Node]:
    """Nodes whose values do not depend on the user's inputs (weights and what is computed
    from weights and literals alone)."""
    kinds = {spec.arg.name: spec.kind for spec in ep.graph_signature.input_specs
             if hasattr(spec.arg, "name")}
    const: set[fx.Node] = set()
    for node in ep.graph.nodes:
        if node.op == "placeholder":
            if kinds.get(node.name) in _CONST_INPUTS:
                const.add(node)
        elif node.op == "call_function":
            if _is_random(node):
                continue
            if packet(node) in _METADATA_ONLY or all(a in const for a in node.all_input_nodes):
                const.add(node)
    return const


def learned_nodes(ep: ExportedProgram, const: set[fx.Node]) -> set[fx.Node]:
    """The constant nodes that hold or are computed from learned parameters (nn.Parameter),
    as opposed to buffers and literals alone: lowering keeps the parameter a trainable
    ``parameter`` and the computation on it as IR ops, rather than folding it into a stored
    tensor."""
    params = {spec.arg.name for spec in ep.graph_signature.input_specs
              if spec.kind == InputKind.PARAMETER and hasattr(spec.arg, "name")}
    learned = {node for node in ep.graph.nodes
               if node.op == "placeholder" and node in const and node.name in params}
    for node in ep.graph.nodes:
        if (node.op == "call_function" and node in const and packet(node) not in _METADATA_ONLY
                and any(a in learned for a in node.all_input_nodes)):
            learned.add(node)
    return learned


def alias_root(node: fx.Node) -> fx.Node:
    """The node whose storage ``node`` shares (itself when it is not a view or an in-place op)."""
    while (is_view(node) or is_inplace(node)) and node.args and isinstance(node.args[0], fx.Node):
        node = node.args[0]
    return node


def needs_functionalization(graph: fx.Graph, const: set[fx.Node]) -> str | None:
    """Why reading in-place ops as functional would be wrong here (None when it is exact)."""
    order = {n: i for i, n in enumerate(graph.nodes)}
    members: dict[fx.Node, list[fx.Node]] = defaultdict(list)
    for node in graph.nodes:
        members[alias_root(node)].append(node)
    for node in graph.nodes:
        if node.op != "call_function" or not is_inplace(node) or node in const:
            continue
        target = node.args[0]
        root = alias_root(node)
        if root in const:
            return f"{node.name} ({op_name(node)}) writes input data into a constant"
        for other in members[root]:
            if other is node or other is target or order[other] > order[node]:
                continue
            if any(order[u] > order[node] for u in other.users):
                return f"{node.name} ({op_name(node)}) writes a tensor that {other.name} aliases"
    return None


def written_placeholders(graph: fx.Graph) -> list[fx.Node]:
    """Graph inputs that an in-place op writes, directly or through a view."""
    roots = [alias_root(n) for n in graph.nodes if n.op == "call_function" and is_inplace(n)]
    return list(dict.fromkeys(r for r in roots if r.op == "placeholder"))
