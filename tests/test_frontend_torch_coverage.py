"""Every torchvision classification model lowers, verifies and round-trips through text; a
representative set also computes exactly what the original computes after ``to_torch``.

Models are random-init (weights=None) in eval mode. CNNs run at 64x64 (inception_v3 at 96);
the transformers at their native sizes, which their window and patch layouts need.
"""

from __future__ import annotations

import gc

import pytest
import torch
import torchvision

import archir

MODELS = torchvision.models.list_models(module=torchvision.models)


pytestmark = pytest.mark.usefixtures("torch_one_thread")

_NATIVE = {"vit_": 224, "swin_v2_": 256, "swin_": 224, "maxvit_": 224, "inception_": 96}

# one or two of every family, the cheaper members
NUMERIC = {
    "alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "efficientnet_v2_s", "googlenet",
    "inception_v3", "maxvit_t", "mnasnet0_5", "mnasnet1_0", "mobilenet_v2", "mobilenet_v3_large",
    "mobilenet_v3_small", "regnet_x_400mf", "regnet_y_400mf", "regnet_y_800mf", "resnet18",
    "resnet50", "resnext50_32x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "squeezenet1_0",
    "squeezenet1_1", "swin_t", "swin_v2_t", "vgg11_bn", "vit_b_32", "wide_resnet50_2",
}

# what each family must lower to, beyond verifying
_EXPECT = {"vit_": "attention", "swin_": "attention", "maxvit_": "attention",
           "shufflenet_": "channel_shuffle"}


def image_size(name: str) -> int:
    return next((size for prefix, size in _NATIVE.items() if name.startswith(prefix)), 64)


def test_the_list_is_complete():
    assert len(MODELS) == 80
    assert NUMERIC <= set(MODELS) and len(NUMERIC) >= 25


@pytest.mark.parametrize("name", MODELS)
def test_torchvision_model_lowers(name):
    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    if name in NUMERIC:
        with torch.no_grad():
            for p in model.parameters():  # zero-initialised heads (ViT) would hide differences
                if not p.any():
                    p.normal_(0.0, 0.02)
    size = image_size(name)
    x = torch.randn(1, 3, size, size)
    module = archir.from_torch(model, (x,))
    archir.verify(module)
    text = archir.to_text(module)
    parsed = archir.parse(text)
    assert archir.to_text(parsed) == text
    assert archir.structurally_equal(parsed, module)
    assert module.main.output_types == (archir.TensorType("f32", (1, 1000)),)
    expected = next((kind for prefix, kind in _EXPECT.items() if name.startswith(prefix)), None)
    if expected:
        assert any(op.name == expected for _, op in module.walk()), expected
    if name in NUMERIC:
        with torch.no_grad():
            want = model(x)
            got = archir.to_torch(module)(x)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    del model, module, parsed
    gc.collect()
