"""Which tracks ``predict`` writes for a model: SpliceAI's acceptor and donor, or Pangolin's tissues.

A network's output columns become the columns of a
:class:`~spliceannot.writers.tracks.Block` through a :class:`TrackLayout`:
SpliceAI's ensemble gives neither, acceptor, donor and its acceptor and
donor columns are written as they are; Pangolin's gives one P(splice)
column per network (tissue-major, see
:mod:`spliceannot.engine.pangolin_files`), and each tissue's track is the
mean of its networks, in float32, as Pangolin averages its replicates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from spliceannot.classes import CLASSES
from spliceannot.engine.pangolin_files import SELECT, TASKS, TISSUES
from spliceannot.errors import ModelError
from spliceannot.writers.tracks import CLASS_COLUMNS

PANGOLIN_HEAD = "pangolin"
_TISSUE_OF_CHANNEL = {SELECT[task]: tissue for task, tissue in zip(TASKS, TISSUES)}


@dataclass(frozen=True)
class TrackLayout:
    """How a network's output becomes the tracks ``predict`` writes.

    Attributes
    ----------
    tracks
        Track name -> its column of the combined values (``Block.probs``),
        in output order: ``{"acceptor": 1, "donor": 2}`` or
        ``{"heart": 0, "liver": 1, "brain": 2, "testis": 3}``.
    width
        Columns of the combined values.
    groups
        None: the network's output is used as it is.  Else one tuple of
        network columns per combined column, averaged in that order.
    """

    tracks: Mapping[str, int]
    width: int
    groups: tuple[tuple[int, ...], ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.tracks)

    def combine(self, probs: np.ndarray) -> np.ndarray:
        """The combined values of a batch: float32 ``(..., width)`` from the network's ``(..., columns)``.

        A group's mean is summed in column order in float32 and divided by
        its size, as ``numpy.mean`` of Pangolin's float32 replicates does.
        """
        if self.groups is None:
            return probs
        shape = probs.shape[:-1] + (len(self.groups),)
        combined = np.empty(shape, dtype=np.float32)
        for index, columns in enumerate(self.groups):
            total = probs[..., columns[0]].astype(np.float32)
            for column in columns[1:]:
                total = total + probs[..., column]
            combined[..., index] = total / np.float32(len(columns))
        return combined


SPLICEAI_LAYOUT = TrackLayout(tracks=dict(CLASS_COLUMNS), width=len(CLASSES))
"""SpliceAI: the acceptor and donor columns of (neither, acceptor, donor)."""

PANGOLIN_NAMES = TISSUES


def pangolin_layout(select: tuple[int, ...] | None) -> TrackLayout:
    """Per tissue (in :data:`TISSUES` order, those present) the mean of its networks' columns.

    ``select`` is the ensemble's channel per network (output column ``i`` is
    network ``i``'s channel ``select[i]``); a channel that is not a tissue's
    P(splice) is refused.
    """
    if select is None:
        raise ModelError("predict reads Pangolin's networks one P(splice) channel each; this model averages them")
    members: dict[str, list[int]] = {}
    for column, channel in enumerate(select):
        tissue = _TISSUE_OF_CHANNEL.get(channel)
        if tissue is None:
            raise ModelError(f"network {column} reads channel {channel}, which is no tissue's P(splice)")
        members.setdefault(tissue, []).append(column)
    present = [tissue for tissue in TISSUES if tissue in members]
    return TrackLayout(
        tracks={tissue: index for index, tissue in enumerate(present)},
        width=len(present),
        groups=tuple(tuple(members[tissue]) for tissue in present),
    )


def layout_of(model) -> TrackLayout:
    """The layout of a :class:`~spliceannot.engine.weights.LoadedModel`, an ``Ensemble`` or a ``Network``.

    Anything else (a callable with a ``flank``) is taken to give SpliceAI's three classes.
    """
    ensemble = getattr(model, "ensemble", model)
    members = getattr(ensemble, "members", None)
    if not members or members[0].architecture.head != PANGOLIN_HEAD:
        return SPLICEAI_LAYOUT
    return pangolin_layout(ensemble.select)


def guessed_names(model: str) -> tuple[str, ...]:
    """The track names of ``--model``, from its file names and metadata alone (no torch).

    SpliceAI's when the family is not known before loading, or the model
    cannot be found (loading it reports why).
    """
    from spliceannot.engine.files import model_family, model_files

    try:
        family = model_family(model, model_files(model))
    except ModelError:
        return SPLICEAI_LAYOUT.names
    return PANGOLIN_NAMES if family == "pangolin" else SPLICEAI_LAYOUT.names
