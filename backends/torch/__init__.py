"""The PyTorch backend: ``to_torch(module)`` emits readable source and runs it as an nn.Module."""

from archir.backends.torch.api import to_torch, to_torch_source
from archir.backends.torch.context import BackendError

__all__ = ["BackendError", "to_torch", "to_torch_source"]
