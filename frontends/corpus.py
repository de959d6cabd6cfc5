"""The corpus of real models whose kernels the profiler samples: torchvision's zoo and
search-space samples, lowered to IR.

torch is imported lazily, only when a model is actually lowered.
Lowered models are cached as ``.air`` text (architecture only), so a resumed profiling run
does not lower again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from archir.frontends.spaces.nb201 import NB201Space
from archir.frontends.spaces.ofa_mbv3 import OFAMobileNetV3Space
from archir.frontends.spaces.proxyless import ProxylessSpace
from archir.frontends.spaces.space import Space
from archir.io import load, save
from archir.ir import Module

# family -> torchvision model names (224×224 inputs)
ZOO: dict[str, tuple[str, ...]] = {
    "resnet": ("resnet18", "resnet34", "resnet50", "resnet101"),
    "resnext": ("resnext50_32x4d",),
    "wide_resnet": ("wide_resnet50_2",),
    "vgg": ("vgg11", "vgg13", "vgg11_bn"),
    "alexnet": ("alexnet",),
    "squeezenet": ("squeezenet1_0", "squeezenet1_1"),
    "densenet": ("densenet121", "densenet169"),
    "googlenet": ("googlenet",),
    "inception": ("inception_v3",),
    "mobilenet_v2": ("mobilenet_v2",),
    "mobilenet_v3": ("mobilenet_v3_small", "mobilenet_v3_large"),
    "mnasnet": ("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"),
    "shufflenet_v2": ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"),
    "efficientnet": ("efficientnet_b0", "efficientnet_b1", "efficientnet_b2"),
    "regnet": ("regnet_x_400mf", "regnet_x_800mf", "regnet_y_400mf", "regnet_y_800mf", "regnet_x_1_6gf"),
    "convnext": ("convnext_tiny",),
    "vit": ("vit_b_16",),
}

# search space name (the prefix of a sample's name, ``ofa-mbv3:7``) -> the space
SPACES: dict[str, type[Space]] = {
    "ofa-mbv3": OFAMobileNetV3Space,
    "proxylessnas": ProxylessSpace,
    "nas-bench-201": NB201Space,
}


class LoweringFailed(RuntimeError):
    def __init__(self, name: str, error: Exception):
        self.name = name
        first = str(error).splitlines()[0] if str(error) else ""
        super().__init__(f"{name}: {type(error).__name__}: {first}")


@dataclass(frozen=True)
class CorpusModel:
    name: str
    family: str
    module: Module


def family_of(name: str) -> str:
    for family, names in ZOO.items():
        if name in names:
            return family
    head = name.split(":", 1)[0]
    if head in SPACES:
        return head
    zoo = ", ".join(n for v in ZOO.values() for n in v)
    raise ValueError(f"unknown model '{name}' (torchvision names: {zoo}; "
                   f"space samples: {', '.join(s + ':SEED' for s in SPACES)})")


def lower_zoo(name: str, resolution: int = 224) -> Module:
    import torch
    import torchvision

    from archir.frontends.torch import from_torch

    model = getattr(torchvision.models, name)(weights=None).eval()
    with torch.no_grad():
        return from_torch(model, (torch.zeros(1, 3, resolution, resolution),), weights=False)


def lower_space_sample(space: str, seed: int) -> Module:
    """A flat, batch-1 architecture sampled from ``space`` with ``seed``."""
    from archir.passes.manager import run_pipeline

    s = SPACES[space]()
    module = s.specialize(s.sample(random.Random(seed)), flat=True)
    arg = module.main.args[0].type
    shape = ",".join(str(d if isinstance(d, int) else 1) for d in arg.shape)
    return run_pipeline(module, f"set-input-shape{{shape=[{shape}]}}")


def lower(name: str) -> Module:
    """``resnet18`` (torchvision) or ``ofa-mbv3:7`` (sample 7 of a search space)."""
    head, _, seed = name.partition(":")
    if head in SPACES:
        return lower_space_sample(head, int(seed or 0))
    family_of(name)
    return lower_zoo(name)


def load_models(names: list[str], cache: Path | None = None) -> Iterator[CorpusModel | LoweringFailed]:
    """Each named model lowered (from the cache when there), or the exception that stopped it."""
    for name in names:
        path = cache / f"{name.replace(':', '_')}.air" if cache is not None else None
        try:
            if path is not None and path.exists():
                module = load(path)
            else:
                module = lower(name)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    save(module, path)
            yield CorpusModel(name, family_of(name), module)
        except Exception as e:  # a model the frontend cannot lower is reported, the rest go on
            yield LoweringFailed(name, e)


def default_models(space_samples: int = 4, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Every other model of each family (its siblings share most kernel shapes; lowering costs
    seconds a model, which a 15-minute budget would rather spend measuring) plus space samples."""
    names = [n for fam, ns in ZOO.items() if fam not in exclude for n in ns[::2]]
    names += [f"{s}:{i}" for s in SPACES if s not in exclude for i in range(space_samples)]
    return names
