"""archir.cost against torchvision's own figures for every classification model.

For each of the 80 models of ``torchvision.models.list_models(module=torchvision.models)``:
``params`` equals ``sum(p.numel() for p in model.parameters())`` exactly, and ``macs`` is
within 2% of ``meta["_ops"]`` (GMACs) of the model's first weights entry, measured at that
entry's ``transforms().crop_size``. Models are built on the meta device (no weights are
allocated or downloaded) and lowered architecture-only.

Exceptions each carry the reason: MAC_EXCEPTIONS (at most four) where the published figure
differs, PARAM_EXCEPTIONS where the lowered IR does not carry the model's parameters as such.
An excepted model is an expected failure; one that starts matching fails the test (stale).
"""

from __future__ import annotations

import pytest

import archir

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

MODELS = torchvision.models.list_models(module=torchvision.models)

# name -> why torchvision's published GMACs differ from archir's count by more than 2%.
MAC_EXCEPTIONS: dict[str, str] = {}

# name -> why the IR's parameter count differs from the model's (MACs still match). None at
# present: learned tensors stay trainable `parameter`s (Swin's and MaxViT's relative position
# tables too, gathered as IR ops), while buffers and the masks computed from them are stored
# `parameter`s with `trainable = false`, which `cost` does not count.
PARAM_EXCEPTIONS: dict[str, str] = {}


def _from_torch():
    return archir.from_torch


def _build(name: str, size: int) -> tuple[torch.nn.Module, str]:
    """The model without weights: on the meta device when its constructor allows it."""
    # a ViT's position embedding is sized for its weights' resolution (518 for vit_h_14's
    # first weights); torchvision sets it from the weights, which are not loaded here
    kwargs = {"image_size": size} if name.startswith("vit_") else {}
    if name in ("googlenet", "inception_v3"):
        # built as their weights build them: without the training-only auxiliary heads, whose
        # parameters the eval-mode forward never uses (and torchvision does not count)
        kwargs.update(aux_logits=False, init_weights=False)
    try:
        with torch.device("meta"):
            return torchvision.models.get_model(name, **kwargs).eval(), "meta"
    except (NotImplementedError, RuntimeError):
        # RegNet computes its widths with tensor arithmetic, which meta tensors cannot do
        return torchvision.models.get_model(name, **kwargs).eval(), "cpu"


def test_the_model_list_is_the_one_the_task_names():
    assert len(MODELS) == 80
    assert len(MAC_EXCEPTIONS) <= 4 and set(MAC_EXCEPTIONS) <= set(MODELS)
    assert set(PARAM_EXCEPTIONS) <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_params_and_macs_match_torchvision(name: str):
    from_torch = _from_torch()
    weights = next(iter(torchvision.models.get_model_weights(name)))
    size = weights.transforms().crop_size[0]
    model, device = _build(name, size)
    module = from_torch(model, (torch.zeros(1, 3, size, size, device=device),), weights=False)
    report = archir.cost(module)
    published = weights.meta["_ops"]
    macs_ok = report.macs / 1e9 == pytest.approx(published, rel=0.02)
    params_ok = report.params == sum(p.numel() for p in model.parameters())
    for ok, exceptions in ((macs_ok, MAC_EXCEPTIONS), (params_ok, PARAM_EXCEPTIONS)):
        if name in exceptions:
            assert not ok, f"{name} now matches; take it out of the exceptions"
    assert macs_ok or name in MAC_EXCEPTIONS, \
        f"{name}: {report.macs / 1e9:.4f} GMACs, torchvision publishes {published}"
    assert params_ok or name in PARAM_EXCEPTIONS, \
        f"{name}: {report.params:,} params, the model has {sum(p.numel() for p in model.parameters()):,}"
    if not (macs_ok and params_ok):
        pytest.xfail(MAC_EXCEPTIONS.get(name) or PARAM_EXCEPTIONS[name])
