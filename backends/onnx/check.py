"""``onnx.checker`` with full shape inference, without serialising the weights.

The checker serialises whatever it is given; big initializers matter to it only through
their type, so it checks a copy of the graph where they are typed graph inputs.
"""

from __future__ import annotations

from collections.abc import Collection

import onnx
from onnx import helper


def check(model: onnx.ModelProto, big: Collection[str]) -> None:
    """``check_model(model, full_check=True)``, with the initializers named in ``big`` (written
    by the emitter from arrays of the right size) declared instead of carried."""
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.producer_name = model.producer_name
    light.opset_import.extend(model.opset_import)
    g, lg = model.graph, light.graph
    lg.name = g.name
    lg.node.extend(g.node)
    lg.input.extend(g.input)
    lg.output.extend(g.output)
    lg.value_info.extend(g.value_info)
    for t in g.initializer:
        if t.name in big:
            lg.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        else:
            lg.initializer.append(t)
    onnx.checker.check_model(light, full_check=True)
