"""Runtime helpers for supernets and weight files (copied into generated files)."""

from __future__ import annotations

import torch
from torch import nn


class Choice(nn.Module):
    """A search-space decision ``$param``: holds one instance per option and runs the active one."""

    def __init__(self, param: str, options: dict[str, nn.Module]) -> None:
        super().__init__()
        self.archir_param = param
        self.keys = {name: name.replace(".", "_") for name in options}
        self.options = nn.ModuleDict({self.keys[name]: m for name, m in options.items()})
        self.active = next(iter(options))

    def forward(self, *inputs: torch.Tensor):
        return self.options[self.keys[self.active]](*inputs)


def select_cells(model: nn.Module, assignment: dict[str, str]) -> nn.Module:
    """Make every Choice of ``$param`` run the cell assignment[param] ('@' optional); returns model."""
    for m in model.modules():
        param = getattr(m, "archir_param", None)
        if param in assignment:
            name = str(assignment[param]).lstrip("@")
            if name not in m.keys:
                raise KeyError(f"${param} has no option @{name} (options: {', '.join(m.keys)})")
            m.active = name
    return model


def load_weights(model: nn.Module, source) -> nn.Module:
    """Copy weights into model: source is an archir .npz file (keys are state_dict names) or a
    mapping of those names to arrays. Unknown names and shape mismatches are errors."""
    if hasattr(source, "items"):
        arrays = dict(source.items())
    else:
        import numpy as np  # only reading an .npz file needs numpy

        with np.load(source, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    state = model.state_dict()
    unknown = sorted(set(arrays) - set(state))
    if unknown:
        raise KeyError(f"no such parameters or buffers in the model: {', '.join(unknown[:8])}")
    with torch.no_grad():
        for key, array in arrays.items():
            value = torch.tensor(array)  # a copy: read-only arrays (np.load, mmap) are fine
            if tuple(value.shape) != tuple(state[key].shape):
                raise ValueError(f"{key}: weights of shape {tuple(value.shape)}, the model has "
                                 f"{tuple(state[key].shape)}")
            state[key].copy_(value)
    return model
