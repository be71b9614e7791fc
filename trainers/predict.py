"""Genome-wide splice-site prediction: chunked, batched inference over a contig.

A contig is predicted in *chunks* of output positions.  Each chunk is fed
with ``flank / 2`` bases of real sequence on each side (N = zeros beyond the
contig's ends), and the network's convolutions are valid (unpadded), so a
chunk of ``n`` positions costs ``n + flank`` input bases and no output is
thrown away.  A position's probabilities depend only on the ``flank + 1``
bases centred on it, never on where its chunk starts.

Strands: the ``+`` track is the model run on the forward sequence; the
``-`` track is the model run on the reverse complement, mapped back to
forward coordinates.  Every track is indexed by forward (genomic) 0-based
coordinates: the value at ``i`` is the probability that genomic base ``i``
is an acceptor (the first base of an exon) or a donor (the last base of an
exon) of a transcript on that strand -- the bases ``create-data`` labels.

The pieces of ``spliceannot predict``:

- :class:`~spliceannot.engine.runner.Network` turns base codes
  ``(batch, L)`` into probabilities ``(batch, L - flank, columns)``
  (SpliceAI: the members' mean of neither, acceptor, donor; Pangolin: one
  P(splice) column per network);
- a :class:`~spliceannot.trainers.predict_layout.TrackLayout` makes them the
  tracks' values (SpliceAI's as they are; Pangolin's per-tissue means);
- :class:`GenomePredictor` (here) cuts intervals of a contig into chunks,
  batches them and yields :class:`~spliceannot.writers.tracks.Block` s of
  those values in genomic order;
- :func:`~spliceannot.trainers.predict_plan.plan_contig` says which
  intervals of a contig, on which strands, are predicted (``--regions``,
  an annotation, runs of N);
- the writers of :mod:`spliceannot.writers.tracks` turn blocks into files;
- :func:`~spliceannot.trainers.predict_genome.predict_genome` streams a
  FASTA through all of that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
from spliceannot.trainers.intervals import (
    DEFAULT_SKIP_N,
    Interval,
    merge_intervals,
    n_runs,
    subtract_intervals,
)
from spliceannot.trainers.predict_layout import TrackLayout, layout_of

from spliceannot.engine.model import Ensemble
from spliceannot.engine.runner import Network
from spliceannot.engine.weights import LoadedModel
from spliceannot.windows import window_codes
from spliceannot.writers.tracks import STRANDS, Block

DEFAULT_CHUNK_SIZE = 50_000
DEFAULT_BATCH_SIZE = 4


def chunk_intervals(
    intervals: Iterable[Interval],
    chunk_size: int,
    align: int = 1,
    min_length: int = 1,
    anchor: int = 0,
) -> Iterator[tuple[Interval, Interval]]:
    """Cut intervals into aligned chunks.

    Each interval is widened to the grid of positions ``anchor + k * align``
    and cut left to right into pieces of ``chunk_size`` (a multiple of
    ``align``) or fewer; a piece shorter than ``min_length`` (a multiple of
    ``align``) is computed over ``min_length`` positions.

    Yields
    ------
    tuple
        ``(computed, kept)``: the aligned chunk ``(first, last)`` to compute
        and the part of the interval inside it.
    """
    for start, end in intervals:
        if end <= start:
            continue
        lo = start - (start - anchor) % align
        hi = end + (anchor - end) % align
        for first in range(lo, hi, chunk_size):
            last = min(first + chunk_size, hi)
            yield (first, max(last, first + min_length)), (max(first, start), min(last, end))


class GenomePredictor:
    """Chunked, batched prediction of whole contigs or intervals of them.

    Parameters
    ----------
    model
        A :class:`LoadedModel`, or a ready :class:`Network` (or any callable
        with a ``flank`` attribute mapping codes ``(b, L)`` to ``(b, L - flank, columns)``).
    device
        Where a :class:`LoadedModel` runs (``auto``, ``cpu``, ``cuda``).
    chunk_size
        Output positions per chunk, rounded up to a multiple of ``ALIGN``;
        each chunk reads ``chunk_size + flank`` bases.
    batch_size
        Chunks per forward pass.
    skip_n
        Runs of at least this many non-ACGT bases are not predicted by
        :meth:`contig_blocks` (0: predict everything).
    fused, tf32
        As for :class:`Network`.
    layout
        How the network's columns become the blocks' values; default: the
        model's own (:func:`~spliceannot.trainers.predict_layout.layout_of`:
        Pangolin's tissues for its networks, else SpliceAI's three classes).

    Notes
    -----
    Chunks start and end on multiples of ``ALIGN`` genomic positions (an
    interval is widened to them and the extra outputs dropped).  Vectorized
    convolution kernels round a position differently depending on its lane
    and on the tensor's tail, so this is what makes CPU results
    bit-identical across chunk sizes, batch sizes and intervals: every
    position is computed at the same offset modulo ``ALIGN`` in tensors
    whose lengths are multiples of ``ALIGN``.  The minus strand's grid is
    anchored at the contig's end, making it the plus strand's grid of the
    reverse complement.  A chunk is computed over at least ``MIN_CHUNK``
    positions, which keeps ``F.conv1d`` (the fallback of
    :func:`~spliceannot.engine._device.choose_conv`) on one kernel too.
    """

    ALIGN = 64
    MIN_CHUNK = 1024

    def __init__(
        self,
        model: LoadedModel | Network | Callable,
        *,
        device: str = "auto",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        skip_n: int = DEFAULT_SKIP_N,
        fused: bool = True,
        tf32: bool = False,
        layout: TrackLayout | None = None,
    ) -> None:
        if chunk_size < 1 or batch_size < 1:
            raise ValueError("chunk_size and batch_size must be at least 1")
        self.layout = layout_of(model) if layout is None else layout
        if isinstance(model, (LoadedModel, Ensemble)):
            model = Network(model, device=device, fused=fused, tf32=tf32)
        self.network = model
        self.flank = int(model.flank)
        self.chunk_size = max(self.ALIGN, -(-int(chunk_size) // self.ALIGN) * self.ALIGN)
        self.batch_size = int(batch_size)
        self.skip_n = int(skip_n)

    def blocks(
        self, contig: str, sequence: bytes | bytearray, intervals: Iterable[Interval], strand: str
    ) -> Iterator[Block]:
        """One :class:`Block` per chunk of ``intervals`` (sorted), in genomic order.

        Nothing is skipped here: every position of ``intervals`` is predicted.
        """
        if strand not in STRANDS:
            raise ValueError(f"strand must be + or -, not {strand!r}")
        for chunks, probs in self.map_batches(self.batches(sequence, intervals, strand)):
            yield from self.blocks_of(contig, chunks, strand, probs)

    def map_batches(self, items: Iterable[tuple]) -> Iterator[tuple]:
        """``(key, values)`` for ``(key, codes)`` items, in order (``None`` codes -> ``None``).

        ``values`` are the network's output combined by the layout
        (``(batch, n, layout.width)``).  A network with a ``map_ordered``
        method (Ray actors) gets several batches in flight, across strands
        and contigs.
        """
        map_ordered = getattr(self.network, "map_ordered", None)
        if map_ordered is not None:
            results = map_ordered(items)
        else:
            results = ((key, None if codes is None else self.network(codes)) for key, codes in items)
        for key, probs in results:
            yield key, None if probs is None else self.layout.combine(probs)

    def batches(
        self, sequence: bytes | bytearray, intervals: Iterable[Interval], strand: str
    ) -> Iterator[tuple[list[tuple[Interval, Interval]], np.ndarray]]:
        """``(chunks, codes)`` per forward pass: up to ``batch_size`` aligned chunks and their base codes."""
        anchor = 0 if strand == "+" else len(sequence) % self.ALIGN
        pending: list[tuple[Interval, Interval]] = []
        for chunk in chunk_intervals(intervals, self.chunk_size, self.ALIGN, self.MIN_CHUNK, anchor):
            pending.append(chunk)
            if len(pending) == self.batch_size:
                yield pending, self._codes(sequence, pending, strand)
                pending = []
        if pending:
            yield pending, self._codes(sequence, pending, strand)

    def contig_blocks(
        self,
        contig: str,
        sequence: bytes | bytearray,
        strand: str,
        intervals: Sequence[Interval] | None = None,
    ) -> Iterator[Block]:
        """Blocks of ``intervals`` (default: the whole contig) without the long runs of N."""
        wanted = [(0, len(sequence))] if intervals is None else merge_intervals(intervals)
        kept = subtract_intervals(wanted, n_runs(sequence, self.skip_n))
        yield from self.blocks(contig, sequence, kept, strand)

    def predict(
        self,
        sequence: bytes | bytearray,
        *,
        strand: str = "+",
        start: int = 0,
        end: int | None = None,
    ) -> np.ndarray:
        """Values of every position of ``sequence[start:end]`` (N runs included).

        Returns
        -------
        numpy.ndarray
            float32 ``(end - start, layout.width)`` in genomic order: neither,
            acceptor, donor (SpliceAI) or one column per tissue (Pangolin).
        """
        end = len(sequence) if end is None else end
        parts = [block.probs for block in self.blocks("", sequence, [(start, end)], strand)]
        return np.concatenate(parts) if parts else np.zeros((0, self.layout.width), dtype=np.float32)

    def _codes(
        self, sequence: bytes | bytearray, chunks: Sequence[tuple[Interval, Interval]], strand: str
    ) -> np.ndarray:
        """Base codes of a batch of ``(computed, kept)`` chunks, one row each, in model orientation."""
        half = self.flank // 2
        longest = max(last - first for (first, last), _ in chunks)
        codes = np.zeros((len(chunks), longest + self.flank), dtype=np.uint8)
        for row, ((first, last), _) in enumerate(chunks):
            # a shorter chunk is padded on the right (model orientation): with valid
            # convolutions its outputs do not see the padding
            window = window_codes(sequence, first - half, last + half, strand)
            codes[row, : len(window)] = window
        return codes

    @staticmethod
    def blocks_of(
        contig: str, chunks: Sequence[tuple[Interval, Interval]], strand: str, probs: np.ndarray
    ) -> Iterator[Block]:
        """One block per chunk's kept part, from the network's output for the batch."""
        for row, ((first, last), (start, end)) in enumerate(chunks):
            values = probs[row, : last - first]
            if strand == "-":
                values = values[::-1]  # model orientation -> genomic order
            values = values[start - first : end - first]
            yield Block(contig, strand, start, np.ascontiguousarray(values, dtype=np.float32))


def predict_contig(
    model: LoadedModel | Network,
    sequence: bytes | bytearray,
    *,
    strand: str = "+",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: str = "auto",
) -> np.ndarray:
    """Probabilities of every position of a contig on one strand.

    Parameters
    ----------
    model
        The ensemble (or a prepared :class:`Network`).
    sequence
        The contig's bases.
    strand
        ``+`` (forward) or ``-`` (reverse complement, mapped back).
    chunk_size, batch_size, device
        As for :class:`GenomePredictor`; the result does not depend on them
        beyond float32 rounding.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(sequence), 3)``: neither, acceptor, donor of genomic
        base ``i`` on ``strand`` (Pangolin: ``(len(sequence), 4)``, P(splice)
        of heart, liver, brain, testis).
    """
    predictor = GenomePredictor(
        model, device=device, chunk_size=chunk_size, batch_size=batch_size, skip_n=0
    )
    return predictor.predict(sequence, strand=strand)
