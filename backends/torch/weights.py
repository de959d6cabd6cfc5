"""The IR's op weights as a state dict of the generated model (keys are ``state_dict`` names)."""

from __future__ import annotations

import numpy as np

from archir.backends.torch.codegen import ClassInfo


def ir_state(classes: dict[str, ClassInfo], main: str) -> dict[str, np.ndarray]:
    """Every IR weight under every instance path: a cell's weights go to each of its call sites."""
    state: dict[str, np.ndarray] = {}

    def visit(graph: str, prefix: str) -> None:
        info = classes[graph]
        for slot in info.slots:
            for name, array in slot.op.weights.items():
                path = slot.paths.get(name)
                if path is None:
                    raise KeyError(f"'{slot.op.name}' has weight '{name}' that its PyTorch layer lacks")
                state[f"{prefix}{slot.attr}{'.' + path if path else ''}"] = np.asarray(array)
        for attr, callee in info.cells:
            visit(callee, f"{prefix}{attr}.")

    visit(main, "")
    return state
