"""Inference-only residual units with BatchNorm folded away.

For inference a unit computes ``x + conv2(act(conv1'(act(a * x + b))))``
where ``a, b`` is BatchNorm 1 as a per-channel affine map and ``conv1'`` is
conv1 with BatchNorm 2 folded into its weights and bias.  This saves two of
the four elementwise passes and allocations per unit; the numbers agree
with the plain module to float32 rounding.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from spliceannot.engine.model import ResidualUnit, SpliceAI


def _affine(norm: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - norm.running_mean * scale


class FusedUnit(nn.Module):
    """A :class:`ResidualUnit` for inference, valid convolutions, same shapes."""

    def __init__(self, unit: ResidualUnit) -> None:
        super().__init__()
        with torch.no_grad():
            scale1, shift1 = _affine(unit.norm1)
            scale2, shift2 = _affine(unit.norm2)
            self.register_buffer("scale1", scale1[:, None].clone())
            self.register_buffer("shift1", shift1[:, None].clone())
            self.register_buffer("weight1", (unit.conv1.weight * scale2[:, None, None]).clone())
            self.register_buffer("bias1", (unit.conv1.bias * scale2 + shift2).clone())
            self.register_buffer("weight2", unit.conv2.weight.clone())
            self.register_buffer("bias2", unit.conv2.bias.clone())
        self.dilation = unit.conv1.dilation[0]
        self.radius = unit.radius
        self.leaky = isinstance(unit.act, nn.LeakyReLU)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu_(x, 0.1) if self.leaky else x.relu_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._act(torch.addcmul(self.shift1, x, self.scale1))
        h = self._act(F.conv1d(h, self.weight1, self.bias1, dilation=self.dilation))
        h = F.conv1d(h, self.weight2, self.bias2, dilation=self.dilation)
        return h.add_(x[..., self.radius : x.shape[-1] - self.radius])


class FusedSpliceAI(nn.Module):
    """The same network as a :class:`SpliceAI`, with :class:`FusedUnit` residual units."""

    def __init__(self, model: SpliceAI) -> None:
        super().__init__()
        self.architecture = model.architecture
        self.stem = model.stem
        self.stem_skip = model.stem_skip
        self.units = nn.ModuleList(FusedUnit(unit) for unit in model.units)
        self.group_skips = model.group_skips
        self.head = model.head
        self.eval()

    @property
    def flank(self) -> int:
        return self.architecture.flank
