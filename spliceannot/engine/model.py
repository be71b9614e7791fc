"""The SpliceAI network (all four flanks) and ensembles of it: the one forward pass.

Convolutions are *valid* (unpadded): an input of shape ``(batch, 4, L)``
gives ``L - flank`` output positions, exactly the central positions a
zero-padded ("same") SpliceAI computes after cropping, without spending work
on context that is thrown away.

Every caller (training, evaluation, annotate's window and cone paths, ISM,
genome-wide predict) runs this module's layers.  Two things vary, neither
of them a second copy of the network:

- **the convolution kernel**: ``forward`` takes a ``conv`` function
  (:func:`torch_conv` by default; predict passes oneDNN's, see
  :func:`spliceannot.engine._device.choose_conv`);
- **folded BatchNorm** (inference only): :meth:`SpliceAI.folded` returns a
  copy whose residual units compute ``x + conv2(act(conv1'(act(a * x + b))))``,
  with BatchNorm 1 as the per-channel affine map ``a, b`` and BatchNorm 2
  folded into conv1's weights and bias.  That saves two of the four
  elementwise passes per unit; the numbers agree with the plain units to
  float32 rounding.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from spliceannot.engine.architecture import CHANNELS, UNITS_PER_GROUP, Architecture
from spliceannot.errors import ModelError

Conv = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, int], torch.Tensor]
"""``conv(x, weight, bias, dilation)``: a valid, stride-1 1-D convolution."""


def torch_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, dilation: int) -> torch.Tensor:
    """``F.conv1d``, as ``nn.Conv1d`` calls it."""
    return F.conv1d(x, weight, bias, dilation=dilation)


def _pointwise(layer: nn.Conv1d, x: torch.Tensor, conv: Conv) -> torch.Tensor:
    return conv(x, layer.weight, layer.bias, 1)


def _activation(name: str) -> nn.Module:
    return nn.ReLU() if name == "relu" else nn.LeakyReLU(0.1)


def _center_crop(x: torch.Tensor, length: int) -> torch.Tensor:
    trim = (x.shape[-1] - length) // 2
    return x[..., trim : trim + length]


def _batchnorm_affine(norm: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scale, shift)`` with ``norm(x) == scale * x + shift`` per channel (eval statistics)."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - norm.running_mean * scale


class ResidualUnit(nn.Module):
    """BN -> activation -> dilated conv -> BN -> activation -> dilated conv, plus identity.

    Valid convolutions: the output is ``2 * dilation * (width - 1)`` shorter
    than the input, and the identity is cropped to match.
    """

    def __init__(self, width: int, dilation: int, activation: str, eps: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm1d(CHANNELS, eps=eps)
        self.conv1 = nn.Conv1d(CHANNELS, CHANNELS, width, dilation=dilation)
        self.norm2 = nn.BatchNorm1d(CHANNELS, eps=eps)
        self.conv2 = nn.Conv1d(CHANNELS, CHANNELS, width, dilation=dilation)
        self.act = _activation(activation)
        self.leaky = activation == "leaky_relu"
        self.dilation = dilation
        self.radius = dilation * (width - 1)
        self.is_folded = False

    def fold(self) -> None:
        """Fold both BatchNorms into buffers (their current running statistics), for inference."""
        with torch.no_grad():
            scale1, shift1 = _batchnorm_affine(self.norm1)
            scale2, shift2 = _batchnorm_affine(self.norm2)
            folded = {
                "scale1": scale1[:, None],
                "shift1": shift1[:, None],
                "weight1": self.conv1.weight * scale2[:, None, None],
                "bias1": self.conv1.bias * scale2 + shift2,
            }
            for name, value in folded.items():
                self.register_buffer(name, value.clone(), persistent=False)
        self.is_folded = True

    def forward(self, x: torch.Tensor, conv: Conv = torch_conv) -> torch.Tensor:
        """``(batch, 32, L)`` -> ``(batch, 32, L - 2 * radius)``."""
        identity = x[..., self.radius : x.shape[-1] - self.radius]
        if self.is_folded:
            h = self._act_(torch.addcmul(self.shift1, x, self.scale1))
            h = self._act_(conv(h, self.weight1, self.bias1, self.dilation))
            h = conv(h, self.conv2.weight, self.conv2.bias, self.dilation)
            return h.add_(identity)
        out = conv(self.act(self.norm1(x)), self.conv1.weight, self.conv1.bias, self.dilation)
        out = conv(self.act(self.norm2(out)), self.conv2.weight, self.conv2.bias, self.dilation)
        return identity + out

    def _act_(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu_(x, 0.1) if self.leaky else x.relu_()


class SpliceAI(nn.Module):
    """One network of the SpliceAI trunk and a 1x1 head.

    Parameters
    ----------
    architecture
        Flank, activation, BatchNorm epsilon, and the head's outputs.

    Notes
    -----
    ``forward`` maps one-hot DNA ``(batch, 4, L)`` (channels A, C, G, T) to
    logits ``(batch, outputs, L - flank)`` (SpliceAI: neither, acceptor, donor).
    """

    def __init__(self, architecture: Architecture | None = None) -> None:
        super().__init__()
        self.architecture = architecture or Architecture()
        arch = self.architecture
        self.stem = nn.Conv1d(4, CHANNELS, 1)
        self.stem_skip = nn.Conv1d(CHANNELS, CHANNELS, 1)
        self.units = nn.ModuleList(
            ResidualUnit(width, dilation, arch.activation, arch.batchnorm_eps)
            for width, dilation in arch.units
        )
        self.group_skips = nn.ModuleList(
            nn.Conv1d(CHANNELS, CHANNELS, 1) for _ in arch.groups
        )
        self.head = nn.Conv1d(CHANNELS, arch.outputs, 1)

    @property
    def flank(self) -> int:
        return self.architecture.flank

    def forward(
        self,
        x: torch.Tensor,
        conv: Conv = torch_conv,
        activations: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits ``(batch, outputs, L - flank)`` for one-hot input ``(batch, 4, L)``.

        Parameters
        ----------
        conv
            The convolution every layer uses.
        activations
            If given, the stem's output and every unit's output
            ``(batch, 32, L - 2 * R_k)`` are appended to it, in order.
        """
        x = _pointwise(self.stem, x, conv)
        if activations is not None:
            activations.append(x)
        skip = _pointwise(self.stem_skip, x, conv)
        for index, unit in enumerate(self.units):
            x = unit(x, conv)
            if activations is not None:
                activations.append(x)
            if (index + 1) % UNITS_PER_GROUP == 0:
                group_skip = _pointwise(self.group_skips[index // UNITS_PER_GROUP], x, conv)
                skip = _center_crop(skip, x.shape[-1]) + group_skip
        return _pointwise(self.head, skip, conv)

    def folded(self) -> SpliceAI:
        """An inference copy (eval mode) whose units have BatchNorm folded (see the module notes)."""
        twin = copy.deepcopy(self).eval()
        for unit in twin.units:
            unit.fold()
        return twin


Temperature = float | tuple[float, float, float]


def normalize_temperature(value) -> Temperature:
    """A scalar, or one value per class (neither, acceptor, donor).

    A per-class temperature scales each site class's log-odds against
    "neither" (see :func:`scale_logits`), so its first value is always 1.
    A triple whose site values are equal collapses to the scalar.
    """
    if isinstance(value, (list, tuple)):
        values = tuple(float(v) for v in value)
        if len(values) != 3:
            raise ValueError(f"a per-class temperature needs 3 values, got {len(values)}")
        values = (1.0, values[1], values[2])
        if values[1] == values[2]:
            values = (values[1],)
    else:
        values = (float(value),)
    if not all(v > 0 and v == v and v != float("inf") for v in values):
        raise ValueError(f"temperatures must be positive and finite, got {value!r}")
    return values if len(values) == 3 else values[0]


def scale_logits(logits: torch.Tensor, temperature: Temperature) -> torch.Tensor:
    """Temperature-scaled ``logits`` (class axis 1), for the softmax.

    A scalar divides all logits.  A per-class ``(1, t_acceptor, t_donor)``
    divides each site class's log-odds against "neither" by its own value:
    ``z_c - z_neither`` -> ``(z_c - z_neither) / t_c``, which does not
    depend on how the logits are shifted.
    """
    if isinstance(temperature, tuple):
        shape = [1] * logits.dim()
        shape[1] = 3
        divisor = torch.tensor(temperature, dtype=logits.dtype, device=logits.device).view(shape)
        return (logits - logits.narrow(1, 0, 1)) / divisor
    if temperature != 1.0:
        return logits / temperature
    return logits


def softmax_probabilities(logits: torch.Tensor, temperature: Temperature) -> torch.Tensor:
    """The ``softmax`` head: float32 softmax over axis 1 of the temperature-scaled logits."""
    return F.softmax(scale_logits(logits, temperature).float(), dim=1)


def pangolin_probabilities(logits: torch.Tensor, temperature: Temperature) -> torch.Tensor:
    """The ``pangolin`` head: per group of three channels, a float32 softmax over
    the first two and a sigmoid of the third (``temperature`` must be 1)."""
    if temperature != 1.0:
        raise ValueError("the pangolin head takes no temperature")
    parts = []
    for first in range(0, logits.shape[1], 3):
        parts.append(F.softmax(logits[:, first : first + 2].float(), dim=1))
        parts.append(torch.sigmoid(logits[:, first + 2 : first + 3].float()))
    return torch.cat(parts, 1)


HEADS: dict[str, Callable[[torch.Tensor, Temperature], torch.Tensor]] = {
    "softmax": softmax_probabilities,
    "pangolin": pangolin_probabilities,
}
"""``Architecture.head`` -> ``probabilities(logits, temperature)`` (keys: ``architecture.HEADS``)."""


class Ensemble(nn.Module):
    """Members of one architecture whose probabilities are averaged, or kept apart.

    Parameters
    ----------
    members
        Networks sharing a flank and a head.
    temperature
        Logits are divided by this before the softmax (1.0 = uncalibrated):
        a scalar or one value per class (see :func:`normalize_temperature`).
    select
        None: the output is the members' mean probabilities (SpliceAI).
        Else one channel per member: output column ``i`` is member ``i``'s
        channel ``select[i]``, members not averaged (Pangolin, whose
        replicates are combined after the variant's difference is taken).
    """

    def __init__(
        self, members: Sequence[SpliceAI], temperature: Temperature = 1.0, select: Sequence[int] | None = None
    ) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        flanks = {m.flank for m in members}
        if len(flanks) != 1:
            raise ValueError(f"ensemble members disagree on flank: {sorted(flanks)}")
        heads = {(m.architecture.outputs, m.architecture.head) for m in members}
        if len(heads) != 1:
            raise ValueError(f"ensemble members disagree on their head: {sorted(heads)}")
        self.members = nn.ModuleList(members)
        self.temperature = normalize_temperature(temperature)
        if select is not None:
            select = tuple(int(channel) for channel in select)
            outputs = members[0].architecture.outputs
            if len(select) != len(members) or not all(0 <= c < outputs for c in select):
                raise ValueError(f"select needs one channel below {outputs} per member, got {select}")
        self.select = select

    @property
    def columns(self) -> int:
        """Output columns: the head's channels (averaged members) or one per member (``select``)."""
        return len(self.members) if self.select is not None else self.members[0].architecture.outputs

    @property
    def flank(self) -> int:
        return self.members[0].flank

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """One member's probabilities ``(batch, outputs, n)`` from its logits, after the temperature."""
        return HEADS[self.members[0].architecture.head](logits, self.temperature)

    def gather(self, index: int, probs: torch.Tensor, total: torch.Tensor | None) -> torch.Tensor:
        """Fold member ``index``'s probabilities ``(..., outputs, n)`` into the running ``total``.

        Averaged members: a running float32 sum in member order (the order
        in which SpliceAI averages its five models); ``select``: the member's
        channel becomes row ``index`` of ``(..., members, n)``.
        """
        if self.select is None:
            return probs if total is None else total + probs
        if total is None:
            shape = list(probs.shape)
            shape[-2] = len(self.members)
            total = probs.new_empty(shape)
        total[..., index, :] = probs[..., self.select[index], :]
        return total

    def finish(self, total: torch.Tensor) -> torch.Tensor:
        """The output ``(..., columns, n)`` from the gathered ``total``: the sum divided by the members."""
        return total if self.select is not None else total / len(self.members)

    def forward(self, x: torch.Tensor, conv: Conv = torch_conv) -> torch.Tensor:
        """Probabilities ``(batch, L - flank, columns)`` for one-hot ``(batch, 4, L)``: the members'
        mean, or one selected channel per member (see :meth:`gather`)."""
        total = None
        for index, member in enumerate(self.members):
            total = self.gather(index, self.probabilities(member(x, conv)), total)
        return self.finish(total).transpose(1, 2)

    def for_inference(self, device: torch.device, *, fold: bool = True) -> Ensemble:
        """Copies of the members (BatchNorm folded if ``fold``) on ``device``, in eval mode.

        Folding happens where the members are, before they move.
        """
        members = [member.folded() if fold else copy.deepcopy(member).eval() for member in self.members]
        return Ensemble([member.to(device) for member in members], self.temperature, self.select).eval()


def load_state(model: SpliceAI, state: dict[str, torch.Tensor]) -> None:
    """Load ``state`` (our parameter names) into ``model`` after checking every key and shape."""
    current = model.state_dict()
    expected = {k for k in current if not k.endswith("num_batches_tracked")}
    missing = expected - set(state)
    unexpected = set(state) - expected
    if missing or unexpected:
        raise ModelError(
            f"weights do not fit the network (missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})"
        )
    for key, value in state.items():
        target = current[key]
        if tuple(value.shape) != tuple(target.shape):
            raise ModelError(f"{key}: shape {tuple(value.shape)} != {tuple(target.shape)}")
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=False)
    model.eval()
