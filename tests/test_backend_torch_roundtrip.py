"""torchvision model -> archir.from_torch -> archir.to_torch: same outputs, same weights."""

from __future__ import annotations

import pytest
import torch
import torchvision

import archir


def _randomise_batch_norm_statistics(model: torch.nn.Module) -> None:
    """Fresh BN layers normalise by (0, 1); random statistics make a dropped BN visible."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small"])
def test_torchvision_round_trip(name: str):
    torch.manual_seed(0)
    original = getattr(torchvision.models, name)(weights=None, num_classes=10).eval()
    _randomise_batch_norm_statistics(original)
    x = torch.randn(2, 3, 64, 64)
    module = archir.from_torch(original, (x,))
    archir.verify(module)
    rebuilt = archir.to_torch(module)
    batches = [2, 1] if isinstance(module.main.args[0].type.shape[0], str) else [2]
    with torch.no_grad():
        for batch in batches:
            inp = torch.randn(batch, 3, 64, 64)
            torch.testing.assert_close(rebuilt(inp), original(inp), atol=1e-4, rtol=1e-4)
    n_original = sum(p.numel() for p in original.parameters())
    assert sum(p.numel() for p in rebuilt.parameters()) == n_original
