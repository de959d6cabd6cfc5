"""``to_torch`` and ``to_torch_source``: IR module -> readable PyTorch source -> live module."""

from __future__ import annotations

import hashlib
import itertools
import linecache
import types
import weakref

import numpy as np
from torch import nn

from archir.backends.torch.codegen import MAIN_CLASS, ModuleWriter
from archir.backends.torch.weights import ir_state
from archir.ir import Module
from archir.verifier import verify


def generate(module: Module) -> tuple[str, dict[str, np.ndarray]]:
    """The module's source and its IR weights keyed by the generated model's state_dict names."""
    verify(module)
    writer = ModuleWriter(module)
    source = writer.write()
    return source, ir_state(writer.classes, module.main.name)


def to_torch_source(module: Module) -> str:
    """The Python source of the module: classes per graph, importable with only torch."""
    return generate(module)[0]


def to_torch(module: Module) -> nn.Module:
    """A live ``nn.Module`` for the IR module, weights loaded where the IR has them.

    The model is returned in eval mode (the IR's batch_norm and dropout are inference ops);
    call ``.train()`` to train it. Its source is kept as ``model.archir_source``; a supernet's
    choices are switched with ``model.select_cells({"param": "@cell"})``.
    """
    source, state = generate(module)
    namespace = _load_source(source)
    model = namespace[MAIN_CLASS]()
    namespace["load_weights"](model, state)
    model.archir_source = source
    if "select_cells" in namespace:
        model.select_cells = types.MethodType(namespace["select_cells"], model)
    return model.eval()


_serial = itertools.count()


def _load_source(source: str) -> dict:
    """Exec the source as a fresh module. Its lines are registered with linecache, so tracebacks
    and ``inspect`` show them, until its classes are collected (a searcher builds thousands)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<archir-generated {digest}-{next(_serial)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(f"archir_generated_{digest}")
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    weakref.finalize(module.__dict__[MAIN_CLASS], linecache.cache.pop, filename, None)
    return module.__dict__
