"""The SpliceAI network (all four flanks) and ensembles of it.

Convolutions are *valid* (unpadded): an input of shape ``(batch, 4, L)``
gives ``L - flank`` output positions, exactly the central positions a
zero-padded ("same") SpliceAI computes after cropping, without spending work
on context that is thrown away.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from spliceannot.engine.architecture import CHANNELS, UNITS_PER_GROUP, Architecture
from spliceannot.errors import ModelError


def _activation(name: str) -> nn.Module:
    return nn.ReLU() if name == "relu" else nn.LeakyReLU(0.1)


def _center_crop(x: torch.Tensor, length: int) -> torch.Tensor:
    trim = (x.shape[-1] - length) // 2
    return x[..., trim : trim + length]


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
        self.radius = dilation * (width - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.act(self.norm1(x)))
        out = self.conv2(self.act(self.norm2(out)))
        return x[..., self.radius : x.shape[-1] - self.radius] + out


class SpliceAI(nn.Module):
    """One SpliceAI network.

    Parameters
    ----------
    architecture
        Flank, activation and BatchNorm epsilon.

    Notes
    -----
    ``forward`` maps one-hot DNA ``(batch, 4, L)`` (channels A, C, G, T) to
    logits ``(batch, 3, L - flank)`` (classes neither, acceptor, donor).
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
        self.head = nn.Conv1d(CHANNELS, 3, 1)

    @property
    def flank(self) -> int:
        return self.architecture.flank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, 3, L - flank)`` for one-hot input ``(batch, 4, L)``."""
        x = self.stem(x)
        skip = self.stem_skip(x)
        for index, unit in enumerate(self.units):
            x = unit(x)
            if (index + 1) % UNITS_PER_GROUP == 0:
                skip = _center_crop(skip, x.shape[-1]) + self.group_skips[index // UNITS_PER_GROUP](x)
        return self.head(skip)


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


class Ensemble(nn.Module):
    """Members of one flank whose softmax probabilities are averaged.

    Parameters
    ----------
    members
        Networks sharing a flank.
    temperature
        Logits are divided by this before the softmax (1.0 = uncalibrated):
        a scalar or one value per class (see :func:`normalize_temperature`).
    """

    def __init__(self, members: Sequence[SpliceAI], temperature: Temperature = 1.0) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        flanks = {m.flank for m in members}
        if len(flanks) != 1:
            raise ValueError(f"ensemble members disagree on flank: {sorted(flanks)}")
        self.members = nn.ModuleList(members)
        self.temperature = normalize_temperature(temperature)

    @property
    def flank(self) -> int:
        return self.members[0].flank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mean probabilities ``(batch, L - flank, 3)`` for one-hot ``(batch, 4, L)``.

        The mean is a running float32 sum over members divided by their
        number, the order in which SpliceAI averages its five models.
        """
        total = None
        for member in self.members:
            logits = scale_logits(member(x), self.temperature)
            probs = F.softmax(logits.float(), dim=1)
            total = probs if total is None else total + probs
        return (total / len(self.members)).transpose(1, 2)


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
