"""The SpliceAI architecture table: the one place that maps a flank to layers.

Every residual unit has two dilated convolutions of kernel width ``W`` and
dilation ``d``; units come in groups of four that share ``(W, d)``.  A model
with flank ``F`` uses the first ``FLANKS[F]`` groups, and its context (the
flank) is ``2 * sum over units of d * (W - 1)``.

The trunk (stem, residual units, skip convolutions) is shared by every
family built on it; what a family adds is data here: how many channels its
head emits and how they become probabilities (``Architecture.outputs`` and
``Architecture.head``, resolved by :mod:`spliceannot.engine.model`).
"""

from __future__ import annotations

from dataclasses import dataclass

from spliceannot.classes import CLASSES

UNITS_PER_GROUP = 4
CHANNELS = 32

# (kernel width, dilation) of each group of four residual units, in order.
GROUPS: tuple[tuple[int, int], ...] = ((11, 1), (11, 4), (21, 10), (41, 25))


def _flank_of(groups: tuple[tuple[int, int], ...]) -> int:
    return 2 * sum(UNITS_PER_GROUP * dilation * (width - 1) for width, dilation in groups)


FLANKS: dict[int, int] = {_flank_of(GROUPS[:n]): n for n in range(1, len(GROUPS) + 1)}
"""flank -> number of groups: {80: 1, 400: 2, 2000: 3, 10000: 4}."""

ACTIVATIONS = ("relu", "leaky_relu")

HEADS = ("softmax", "pangolin")
"""How head logits become probabilities: ``softmax`` over the channel axis
(SpliceAI's three classes, after the ensemble's temperature); ``pangolin``:
channels in groups of three, a two-way softmax over the first two and a
sigmoid of the third (Pangolin's four tissues: P(splice) pair, usage)."""


@dataclass(frozen=True)
class Architecture:
    """Shape of one SpliceAI network.

    Parameters
    ----------
    flank
        Total context in nucleotides (80, 400, 2000 or 10000): an input of
        length ``L`` yields ``L - flank`` predictions.
    activation
        ``relu`` (Illumina's models) or ``leaky_relu`` (slope 0.1, OpenSpliceAI).
    batchnorm_eps
        BatchNorm epsilon: 1e-3 for the Keras models, 1e-5 for PyTorch-trained ones.
    outputs
        Channels of the head's 1x1 convolution (3: neither, acceptor, donor).
    head
        How the head's logits become probabilities (one of ``HEADS``).
    """

    flank: int = 10000
    activation: str = "relu"
    batchnorm_eps: float = 1e-3
    outputs: int = len(CLASSES)
    head: str = "softmax"

    def __post_init__(self) -> None:
        if self.flank not in FLANKS:
            raise ValueError(f"flank must be one of {sorted(FLANKS)}, got {self.flank}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.head not in HEADS or self.outputs < 1 or (self.head == "pangolin" and self.outputs % 3):
            raise ValueError(
                f"head must be one of {HEADS} with at least one output, got {self.head!r}, {self.outputs}"
            )

    @property
    def groups(self) -> tuple[tuple[int, int], ...]:
        """(kernel width, dilation) of each group of four units."""
        return GROUPS[: FLANKS[self.flank]]

    @property
    def units(self) -> tuple[tuple[int, int], ...]:
        """(kernel width, dilation) of every residual unit, in order."""
        return tuple(group for group in self.groups for _ in range(UNITS_PER_GROUP))

    def unit_radii(self) -> tuple[int, ...]:
        """How far each residual unit reaches to either side, in nucleotides."""
        return tuple(dilation * (width - 1) for width, dilation in self.units)


PANGOLIN = Architecture(flank=10000, activation="relu", batchnorm_eps=1e-5, outputs=12, head="pangolin")
"""Pangolin's network: SpliceAI-10k's trunk (PyTorch BatchNorm epsilon) with
four tissues' heads, 12 channels: per tissue P(splice) as a two-way softmax
(channels 0-1, 3-4, 6-7, 9-10) and usage as a sigmoid (2, 5, 8, 11)."""
