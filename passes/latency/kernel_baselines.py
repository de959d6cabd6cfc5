"""Baselines the kernel predictor is compared with (benchmarks/latency_accuracy.py).

* ``FlopsRegression``: model latency = a·FLOPs + b, fitted on whole-model measurements.
* ``NnMeterForest``: nn-Meter's method on the same kernel measurements: its kernel types (every
  conv* kernel is conv-bn-relu, every dwconv* dwconv-bn-relu, ...), its feature vectors (H only,
  no groups, no dilation, no implementation), a random forest per type (LightGBM in random
  forest mode; sklearn is not a dependency) and a plain sum, in which a kernel type without a
  model counts 0 ms, as nn-Meter's ``predict_by_kernel`` does.
* The per-op baseline (sum of per-op predictions without fusion) needs no code of its own: it
  is a ``KernelPredictor`` trained on single-op measurements and applied op by op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np

from archir.ir import Operation
from archir.passes.latency.kernel_features import classes_of
from archir.passes.targets.anchor import anchor_of

Kernel = Sequence[Operation]


@dataclass(frozen=True)
class FlopsRegression:
    a_us_per_mflop: float
    b_us: float

    @classmethod
    def fit(cls, flops: Sequence[float], latency_us: Sequence[float]) -> FlopsRegression:
        # relative least squares, like every other fit here: a 1 ms and a 100 ms model count alike
        f, y = np.asarray(flops, float) / 1e6, np.asarray(latency_us, float)
        a = np.stack([f / y, 1 / y], axis=1)
        coef = np.linalg.lstsq(a, np.ones(len(y)), rcond=None)[0]
        return cls(float(coef[0]), float(coef[1]))

    def predict_us(self, flops: float) -> float:
        return self.a_us_per_mflop * flops / 1e6 + self.b_us


# nn-Meter's CPU predictor set (nn_meter/configs/predictors.yaml)
NNMETER_KINDS = ("conv-bn-relu", "dwconv-bn-relu", "fc", "global-avgpool", "hswish", "relu", "se", "split",
                 "add", "addrelu", "maxpool", "avgpool", "bn", "bnrelu", "channelshuffle", "concat")


def nnmeter_kind(ops: Kernel) -> str | None:
    """The nn-Meter predictor a kernel would be sent to (None: nn-Meter has none, 0 ms)."""
    classes = [c for c in classes_of(ops) if c not in ("constant", "noop")]
    if not classes:
        return None
    head = classes[0]
    if "conv" in classes or "gconv" in classes:  # grouped convs were treated as dense convs
        return "conv-bn-relu"
    if "dwconv" in classes:
        return "dwconv-bn-relu"
    if "dense" in classes:
        return "fc"
    if head == "gap":
        return "global-avgpool"
    if head == "pooling":
        return "maxpool" if anchor_of(ops).name.startswith("max") else "avgpool"
    if head == "add":
        return "addrelu" if "relu" in classes else "add"
    if head == "bn":
        return "bnrelu" if "relu" in classes else "bn"
    if head in ("relu", "hswish", "concat", "split"):
        return head
    if head == "channelshuffle":
        return "channelshuffle"
    return None


def _conv_params(op: Operation, depthwise: bool) -> tuple[float, ...]:
    x = op.operands[0].type.shape
    out = op.results[0].type.shape
    cin, cout = x[1], op.attrs["out_channels"]
    k, s = op.attrs["kernel"][0], op.attrs["stride"][0]
    hw = x[2] if len(x) > 2 else 1
    params = cout * (k * k + 1) if depthwise else cout * (k * k * cin + 1)
    flops = 2 * (out[2] if len(out) > 2 else 1) ** 2 * params  # nn-Meter's (HW/s)²: square maps
    return (hw, cin, cout, k, s, flops / 2e6, params / 1e6)


def nnmeter_features(kind: str, ops: Kernel) -> tuple[float, ...]:
    real = [op for op in ops if op.name not in ("constant", "parameter", "identity", "dropout")]
    op = anchor_of(ops)
    x = op.operands[0].type.shape if op.operands else (1, 1)
    hw = x[2] if len(x) > 2 else 1
    cin = x[1] if len(x) > 1 else x[-1]
    if kind in ("conv-bn-relu", "dwconv-bn-relu"):
        return _conv_params(op, kind.startswith("dw"))
    if kind == "fc":
        cin, cout = op.operands[0].type.shape[-1], op.attrs["out_features"]
        return (cin, cout, (2 * cin + 1) * cout / 2e6, (2 * cin + 1) * cout / 1e6)
    if kind in ("maxpool", "avgpool"):
        k = op.attrs["kernel"][0] if "kernel" in op.attrs else hw
        s = op.attrs["stride"][0] if "stride" in op.attrs else k
        return (hw, cin, op.results[0].type.shape[1], k, s)
    if kind in ("add", "addrelu"):
        first = real[0]
        c = [v.type.shape[1] if v.type.rank > 1 else 1 for v in first.operands[:2]]
        return (hw, c[0], c[-1])
    if kind == "concat":
        chans = [v.type.shape[1] for v in real[0].operands][:4]
        return (hw, len(real[0].operands), *chans, *[0] * (4 - len(chans)))
    if kind == "global-avgpool":
        return (1, cin)  # nn-Meter's bug, kept: HW is always 1 for GAP
    return (hw, cin)


@dataclass
class NnMeterForest:
    models: dict[str, lgb.Booster] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @staticmethod
    def forest_params(kind: str, n: int) -> dict:
        depth, trees, features = {"conv-bn-relu": (70, 320, 6), "dwconv-bn-relu": (50, 240, 6)}.get(
            kind, (50, 370, 0))
        width = {"conv-bn-relu": 7, "dwconv-bn-relu": 7}.get(kind, 0)
        return {"boosting": "rf", "objective": "regression", "num_iterations": trees, "max_depth": depth,
                "num_leaves": min(4096, max(2, n)), "min_data_in_leaf": 1, "min_data_in_bin": 1,
                "bagging_fraction": 0.632, "bagging_freq": 1,
                "feature_fraction": features / width if width else 1.0,
                "verbose": -1, "num_threads": 1, "seed": 10, "deterministic": True}

    @classmethod
    def fit(cls, kernels: Sequence[Kernel], latency_us: Sequence[float]) -> NnMeterForest:
        by_kind: dict[str, list[tuple[tuple[float, ...], float]]] = {}
        for ops, y in zip(kernels, latency_us):
            kind = nnmeter_kind(ops)
            if kind is not None:
                by_kind.setdefault(kind, []).append((nnmeter_features(kind, ops), y))
        forest = cls()
        for kind, rows in by_kind.items():
            if len(rows) < 2:
                continue
            width = max(len(f) for f, _ in rows)
            x = np.array([list(f) + [0] * (width - len(f)) for f, _ in rows], float)
            y = np.array([v for _, v in rows])
            params = cls.forest_params(kind, len(rows))
            forest.models[kind] = lgb.train(params, lgb.Dataset(x, y, params={"min_data_in_bin": 1,
                                                                             "verbose": -1}))
        return forest

    def predict_us(self, kernels: Sequence[Kernel]) -> float:
        total = 0.0
        for ops in kernels:
            kind = nnmeter_kind(ops)
            model = self.models.get(kind) if kind is not None else None
            if model is None:
                continue  # nn-Meter: a kernel without a predictor costs 0 ms
            f = np.array([nnmeter_features(kind, ops)], float)
            f = np.pad(f, ((0, 0), (0, model.num_feature() - f.shape[1])))
            total += float(model.predict(f, num_threads=1)[0])
        return total
