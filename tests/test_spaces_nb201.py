"""NAS-Bench-201 / NATS-Bench: the published params and FLOPs of the reference architectures
(tests/data/nats_bench_reference_archs.txt, copied from NATS-Bench records) are reproduced
exactly from the IR, for every dataset."""

import math
import re
from pathlib import Path

import pytest

import archir
from archir.frontends.spaces import nb201_ops
from archir.frontends.spaces.nats_counter import nats_flops, nats_params
from archir.frontends.spaces.nats_sss import sss_network
from archir.frontends.spaces.nb201 import DATASETS, NB201Space

DATA = Path(__file__).parent / "data" / "nats_bench_reference_archs.txt"
SHAPES = {**DATASETS, "cifar10-valid": DATASETS["cifar10"]}


def _records():
    """(space, index, arch, dataset, params in M, flops in M) for every record of the file."""
    out, head = [], None
    for line in DATA.read_text().splitlines():
        m = re.match(r"NATS-(tss|sss)\S* index (\d+) hp \d+ (\S+)$", line)
        if m:
            head = m.groups()
            continue
        m = re.match(r"\s+(\S+)\s+seed \d+ params\(M\)=([\d.]+) flops\(M\)=([\d.]+)", line)
        if m:
            out.append((*head, m[1], float(m[2]), float(m[3])))
    return out


RECORDS = _records()
_SPACES: dict = {}


def _network(kind: str, arch: str, dataset: str) -> archir.Module:
    resolution, classes = SHAPES[dataset]
    if kind == "sss":
        return sss_network(arch, num_classes=classes, resolution=resolution)
    space = _SPACES.get(dataset) or _SPACES.setdefault(dataset, NB201Space(num_classes=classes,
                                                                           resolution=resolution))
    return space.specialize(space.decode(arch))


def test_the_reference_file_has_every_record():
    assert len(RECORDS) == 24  # 3 tss + 3 sss architectures x 4 datasets
    assert {r[0] for r in RECORDS} == {"tss", "sss"}


@pytest.mark.parametrize("kind,index,arch,dataset,params,flops", RECORDS,
                         ids=[f"{r[0]}{r[1]}-{r[3]}" for r in RECORDS])
def test_reference_params_and_flops_match_exactly(kind, index, arch, dataset, params, flops):
    module = _network(kind, arch, dataset)
    archir.verify(module)
    assert nats_params(module) == round(params * 1e6)
    assert round(nats_flops(module) / 1e6, 5) == flops


@pytest.mark.parametrize("kind,index,arch,dataset,params,flops", RECORDS[::2],
                         ids=[f"{r[0]}{r[1]}-{r[3]}" for r in RECORDS[::2]])
def test_archir_cost_agrees_with_nats(kind, index, arch, dataset, params, flops):
    """archir.cost counts MACs without bias adds: NATS FLOPs = MACs + the classifier biases."""
    module = _network(kind, arch, dataset)
    report = archir.cost(module)
    assert report.params == round(params * 1e6)
    assert report.macs + SHAPES[dataset][1] == nats_flops(module)


def test_none_edges_contribute_nothing():
    space = NB201Space()
    base = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|{}~2|"
    with_none, with_conv = (space.specialize(space.decode(base.format(op)))
                            for op in ("none", "nor_conv_3x3"))
    conv3 = 16 * 16 * 9 * 1024 + 32 * 32 * 9 * 256 + 64 * 64 * 9 * 64  # one 3x3 conv edge per stage
    assert nats_flops(with_conv) - nats_flops(with_none) == 5 * conv3
    assert nats_params(with_conv) - nats_params(with_none) == 5 * sum(c * c * 9 + 2 * c for c in (16, 32, 64))


def test_space_size_and_ir_shape():
    space = NB201Space()
    assert math.prod(len(d.domain) for d in space.decisions) == 15625
    assert sorted(space.module.params) == [f"edge.{j}.{i}" for j in range(1, 4) for i in range(j)]
    text = archir.to_text(space.module)
    # one decision per edge, shared by the three widths through the choice's variant
    assert 'variant = ".c32"' in text and 'variant = ".c64"' in text
    assert archir.to_text(archir.parse(text)) == text


def test_arch_strings_round_trip():
    space = NB201Space()
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    assignment = space.decode(arch)
    assert assignment["edge.3.0"] == "none" and assignment["edge.2.1"] == "avg_pool_3x3"
    assert space.encode(assignment) == arch


@pytest.mark.parametrize("bad,message", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "3 nodes"),
    ("|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|", "conv_9x9~0"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "none~1"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 edges"),
])
def test_bad_arch_strings_are_rejected_with_the_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        nb201_ops.parse_arch(bad)


def test_sss_widths_are_checked():
    with pytest.raises(ValueError, match="5 widths"):
        sss_network("8:8:8:8")
    with pytest.raises(ValueError, match="5 widths"):
        sss_network("8:8:12:8:8")
