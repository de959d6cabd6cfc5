"""Property: random chains of graph mutations over every space's architectures only ever yield
modules that verify and round-trip through text, and never modify their input; mutated
architectures still emit to PyTorch and ONNX and run."""

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archir
from archir.frontends.spaces.darts import DartsSpace
from archir.frontends.spaces.nasnet import NasNetSpace
from archir.frontends.spaces.nb201 import NB201Space
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.frontends.spaces.proxyless import ProxylessSpace
from archir.frontends.spaces.transformer import TransformerSpace
from archir.search.mutations import Rejected, random_mutation

SPACES = {"nb201": NB201Space, "darts": DartsSpace, "nasnet": NasNetSpace, "ofa": OFAMobileNetV3Space,
          "proxyless": ProxylessSpace, "transformer": TransformerSpace}
CHAINS, STEPS, BASES = 200, 10, 4  # 2,000 mutations: about half a minute on one core


@functools.cache
def bases(name: str) -> tuple[archir.Module, ...]:
    """A few flat random architectures per space (shared: mutations must not modify them)."""
    space, rng = SPACES[name](), random.Random(name)
    out = []
    for _ in range(BASES):
        a = space.sample(rng)
        if "resolution" in a:
            a["resolution"] = rng.choice((128, 160))
        out.append(space.specialize(a, flat=True))
    return tuple(out)


def snapshot(module: archir.Module) -> tuple:
    """Everything a mutation could change in place, cheaply: ops, operands, attrs, types."""
    g = module.main
    ops = tuple((op.opdef.name, tuple(map(id, op.operands)), tuple(op.attrs.items()),
                 tuple(r.type for r in op.results)) for op in g.ops)
    return tuple(map(id, g.ops)), tuple(map(id, g.outputs)), ops


def chain(module: archir.Module, rng: random.Random, steps: int) -> tuple[archir.Module, list[str]]:
    done = []
    for _ in range(steps):
        before = snapshot(module)
        try:
            mutant = random_mutation(module, rng)
        except Rejected:
            continue
        assert snapshot(module) == before, f"{done} then a mutation modified its input"
        archir.verify(mutant.module)
        assert mutant.module.main.output_types == module.main.output_types
        done.append(f"{mutant.mutation}: {mutant.detail}")
        module = mutant.module
    return module, done


@settings(max_examples=CHAINS)
@given(name=st.sampled_from(sorted(SPACES)), base=st.integers(0, BASES - 1), seed=st.integers(0, 2**32 - 1))
def test_mutation_chains_always_verify(name, base, seed):
    module, done = chain(bases(name)[base], random.Random(seed), STEPS)
    assert done, "no mutation applied in a whole chain"
    text = archir.to_text(module)
    again = archir.parse(text)
    assert archir.to_text(again) == text
    assert archir.structurally_equal(again, module)


def _input(module, torch):
    t = module.main.args[0].type
    shape = [2 if d == "N" else d for d in t.shape]
    return torch.randint(0, 100, shape) if t.dtype.value == "i64" else torch.randn(shape)


@functools.cache
def mutated(name: str, seed: int) -> archir.Module:
    module, _ = chain(bases(name)[seed % BASES], random.Random(seed), STEPS)
    return module


EMITTED = [(name, seed) for name in sorted(SPACES) for seed in (1, 2)]


@pytest.mark.parametrize("name,seed", EMITTED)
def test_mutated_architectures_run_in_pytorch(name, seed):
    torch = pytest.importorskip("torch")
    module = mutated(name, seed)
    with torch.no_grad():
        y = archir.to_torch(module)(_input(module, torch))
    assert tuple(y.shape) == tuple(2 if d == "N" else d for d in module.main.output_types[0].shape)
    assert torch.isfinite(y).all()


def _onnx_backend():
    return archir.to_onnx


@pytest.mark.parametrize("name,seed", EMITTED)
def test_mutated_architectures_run_in_onnxruntime(name, seed):
    ort = pytest.importorskip("onnxruntime")
    torch = pytest.importorskip("torch")
    to_onnx = _onnx_backend()
    module = mutated(name, seed)
    model = to_onnx(module)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = _input(module, torch).numpy()
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    assert y.shape == tuple(2 if d == "N" else d for d in module.main.output_types[0].shape)
