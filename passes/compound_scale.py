"""``compound-scale{phi=1}``: EfficientNet compound scaling of depth, width and resolution.

depth = alpha^phi, width = beta^phi, resolution = gamma^phi (alpha=1.2, beta=1.1, gamma=1.15,
Tan & Le 2019), unless ``depth``, ``width`` or ``resolution`` give a multiplier directly.

* depth: each stage of n blocks gets ceil(n · depth) blocks (``archir.passes.blocks``);
* width: every free channel class is scaled and rounded to a multiple of ``divisor``, block-
  internal widths follow their block's input (``archir.passes.channel_plan``);
* resolution: the spatial dims of @main's image inputs (rank >= 4) are multiplied and rounded.

The result is an architecture: a scaled network is untrained, so every weight is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from archir.errors import VerifyError
from archir.ir import Module, Operation
from archir.passes.base import Pass, PassContext, PassError, register
from archir.passes.blocks import scale_depth
from archir.passes.channel_plan import ChannelPlan
from archir.passes.naming import op_names
from archir.passes.set_input_shape import retype_inputs
from archir.specialize import infer_types


@register
@dataclass(frozen=True)
class CompoundScale(Pass):
    name = "compound-scale"
    summary = "EfficientNet compound scaling of depth, width and resolution"

    phi: float = 0.0
    alpha: float = 1.2
    beta: float = 1.1
    gamma: float = 1.15
    width: float = 0.0  # 0: beta^phi
    depth: float = 0.0  # 0: alpha^phi
    resolution: float = 0.0  # 0: gamma^phi
    divisor: int = 8

    def __post_init__(self) -> None:
        for key in ("alpha", "beta", "gamma"):
            if getattr(self, key) <= 0:
                raise ValueError(f"option '{key}' must be > 0, got {getattr(self, key)}")
        for key in ("width", "depth", "resolution"):
            if getattr(self, key) < 0:
                raise ValueError(f"option '{key}' must be > 0 (or 0: from phi), got {getattr(self, key)}")
        if self.divisor < 1:
            raise ValueError(f"option 'divisor' must be >= 1, got {self.divisor}")

    @property
    def multipliers(self) -> tuple[float, float, float]:
        """(width, depth, resolution)."""
        return (self.width or self.beta**self.phi, self.depth or self.alpha**self.phi,
                self.resolution or self.gamma**self.phi)

    def run(self, module: Module, ctx: PassContext) -> bool:
        width, depth, resolution = self.multipliers
        g = module.main
        changed = False
        if width != 1 or depth != 1:
            plan = ChannelPlan.analyse(g)
            synthesized: list[Operation] = []
            try:
                if depth != 1:
                    changed, synthesized = scale_depth(g, plan, depth)
                changed |= plan.apply(g, plan.resolve(width, self.divisor))
            except PassError as e:
                raise PassError(f"{self}: {e}") from None
            if changed:
                for op in g.ops:
                    op.weights = None  # a rescaled network is untrained
                try:
                    infer_types(module)
                except VerifyError as e:
                    raise PassError(f"{self}: the scaled graph does not type-check: {e.message}") from None
                self._check_repeats(module, synthesized)
        if resolution != 1:
            new_types = {}
            for i, a in enumerate(g.args):
                t = a.type
                # images (N, C, H, W) and volumes; a rank-3 input may be a (B, S, D) sequence
                if t.rank >= 4 and all(isinstance(d, int) for d in t.shape[2:]):
                    spatial = [max(1, round(d * resolution)) for d in t.shape[2:]]
                    new_types[i] = t.with_shape((*t.shape[:2], *spatial))
            if new_types:
                changed |= retype_inputs(module, new_types, str(self))
        return changed

    def _check_repeats(self, module: Module, adds: list[Operation]) -> None:
        names = op_names(module)
        for add in adds:
            block_out, block_in = add.operands
            if block_out.type != block_in.type:
                at = names[block_in.owner] if block_in.owner is not None else "the input"
                raise PassError(f"{self}: cannot deepen the stage ending at {at}: its block, repeated at "
                                f"stride 1, maps {block_in.type} to {block_out.type}")
