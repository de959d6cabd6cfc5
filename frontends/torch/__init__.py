"""The PyTorch frontend: ``from_torch(model, example_inputs)`` lowers a model via torch.export."""

from archir.frontends.torch.lower import from_torch, lower_program

__all__ = ["from_torch", "lower_program"]
