"""Genome-wide splice-site prediction: chunked inference and track writers.

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

The pieces:

- :class:`Network` turns base codes ``(batch, L)`` into averaged
  probabilities ``(batch, L - flank, 3)`` (BatchNorm folded when possible);
- :class:`GenomePredictor` cuts intervals of a contig into chunks, batches
  them and yields :class:`Block` s of probabilities in genomic order;
- :func:`plan_contig` says which intervals of a contig, on which strands,
  are predicted (``--regions``, an annotation, runs of N);
- the writers (:class:`BedGraphWriter`, :class:`BigWigWriter`,
  :class:`BedWriter`, :class:`Hdf5Writer`) turn blocks into files, which
  appear at their paths only when complete;
- :func:`predict_genome` streams a FASTA through all of that.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spliceannot.atomic import discard, publish, temporary_beside
from spliceannot.encoding import BASE_CODES, COMPLEMENT_CODES
from spliceannot.engine.model import Ensemble
from spliceannot.engine.runner import Network
from spliceannot.engine.weights import LoadedModel
from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher

log = logging.getLogger(__name__)

STRANDS = ("+", "-")
STRAND_WORDS = {"+": "plus", "-": "minus"}
CLASS_COLUMNS = {"acceptor": 1, "donor": 2}  # columns of a probability array
DEFAULT_CHUNK_SIZE = 50_000
DEFAULT_BATCH_SIZE = 4
DEFAULT_SKIP_N = 1_000
DEFAULT_THRESHOLD = 0.01
VALUE_FORMAT = "{:.4g}"
HDF5_FORMAT = "spliceannot-predict"
HDF5_VERSION = "1"

Interval = tuple[int, int]  # 0-based half-open

_NOT_ACGT = re.compile(rb"[^ACGTacgt]+")


# ----------------------------------------------------------------------------- sequence


def window_codes(sequence: bytes | bytearray, start: int, end: int, strand: str) -> np.ndarray:
    """Base codes of ``sequence[start:end]`` in model orientation, 0 (N) beyond its ends.

    Parameters
    ----------
    sequence
        A whole contig (any case; letters other than A, C, G, T read as N).
    start, end
        0-based half-open; may reach past either end of ``sequence``.
    strand
        ``+``: as is; ``-``: reverse complement.

    Returns
    -------
    numpy.ndarray
        uint8 ``(end - start,)``: 0 N, 1 A, 2 C, 3 G, 4 T.
    """
    codes = np.zeros(end - start, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, len(sequence))
    if hi > lo:
        raw = np.frombuffer(sequence, dtype=np.uint8, count=hi - lo, offset=lo)
        codes[lo - start : hi - start] = BASE_CODES[raw]
    if strand == "-":
        codes = COMPLEMENT_CODES[codes[::-1]]
    return codes


def n_runs(sequence: bytes | bytearray, min_length: int) -> list[Interval]:
    """Runs of at least ``min_length`` bases other than A, C, G, T (none if ``min_length`` < 1)."""
    if min_length < 1:
        return []
    return [m.span() for m in _NOT_ACGT.finditer(sequence) if m.end() - m.start() >= min_length]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals join, empty ones vanish."""
    merged: list[list[int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def subtract_intervals(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` (sorted, disjoint) without ``holes`` (sorted, disjoint)."""
    result = []
    k = 0
    for start, end in intervals:
        while k < len(holes) and holes[k][1] <= start:
            k += 1
        position, j = start, k
        while j < len(holes) and holes[j][0] < end:
            if holes[j][0] > position:
                result.append((position, holes[j][0]))
            position = max(position, holes[j][1])
            j += 1
        if position < end:
            result.append((position, end))
    return result


def intersect_intervals(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint interval lists."""
    result, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return result


# ----------------------------------------------------------------------------- chunked prediction


@dataclass(frozen=True)
class Block:
    """Probabilities of consecutive positions of one contig and strand.

    Attributes
    ----------
    contig
        The FASTA's name.
    strand
        ``+`` or ``-``.
    start
        0-based genomic coordinate of ``probs[0]``.
    probs
        float32 ``(n, 3)`` (neither, acceptor, donor) in *genomic* order:
        ``probs[i]`` is genomic base ``start + i``, on either strand.
    """

    contig: str
    strand: str
    start: int
    probs: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.probs)


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
        with a ``flank`` attribute mapping codes ``(b, L)`` to ``(b, L - flank, 3)``).
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
    :func:`choose_conv`) on one kernel too.
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
    ) -> None:
        if chunk_size < 1 or batch_size < 1:
            raise ValueError("chunk_size and batch_size must be at least 1")
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
        """``(key, probabilities)`` for ``(key, codes)`` items, in order (``None`` codes -> ``None``).

        A network with a ``map_ordered`` method (Ray actors) gets several
        batches in flight, across strands and contigs.
        """
        map_ordered = getattr(self.network, "map_ordered", None)
        if map_ordered is not None:
            yield from map_ordered(items)
            return
        for key, codes in items:
            yield key, None if codes is None else self.network(codes)

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
        """Probabilities of every position of ``sequence[start:end]`` (N runs included).

        Returns
        -------
        numpy.ndarray
            float32 ``(end - start, 3)`` in genomic order.
        """
        end = len(sequence) if end is None else end
        parts = [block.probs for block in self.blocks("", sequence, [(start, end)], strand)]
        return np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.float32)

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
        base ``i`` on ``strand``.
    """
    predictor = GenomePredictor(
        model, device=device, chunk_size=chunk_size, batch_size=batch_size, skip_n=0
    )
    return predictor.predict(sequence, strand=strand)


# ----------------------------------------------------------------------------- what to predict


def parse_regions(text: str | Iterable[str]) -> list[tuple[str, int, int]]:
    """``chr:beg-end`` (1-based inclusive) or ``chr`` items, comma separated.

    Returns
    -------
    list of tuple
        ``(contig, start, end)`` 0-based half-open; a whole contig has
        ``start = 0`` and ``end = -1``.

    Raises
    ------
    ValueError
        If an item is malformed.
    """
    items = [text] if isinstance(text, str) else list(text)
    regions = []
    for item in (part.strip() for chunk in items for part in chunk.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"(.+):(\d+)-(\d+)", item)
        if match is None:
            if ":" in item:
                raise ValueError(f"--regions: {item!r} is not CHROM:BEGIN-END (1-based, inclusive)")
            regions.append((item, 0, -1))
            continue
        contig, begin, end = match.group(1), int(match.group(2)), int(match.group(3))
        if begin < 1 or end < begin:
            raise ValueError(f"--regions: {item!r} needs 1 <= BEGIN <= END")
        regions.append((contig, begin - 1, end))
    if not regions:
        raise ValueError("--regions: no region given")
    return regions


def regions_by_contig(
    regions: Sequence[tuple[str, int, int]], contigs: Sequence[str]
) -> dict[str, list[tuple[int, int]]]:
    """Regions grouped by the FASTA's contig names (``chr1`` and ``1`` match).

    Raises
    ------
    InputError
        If a region names a contig the FASTA does not have.
    """
    matcher = ContigMatcher(contigs)
    grouped: dict[str, list[tuple[int, int]]] = {}
    for contig, start, end in regions:
        name = matcher.resolve(contig)
        if name is None:
            shown = ", ".join(list(contigs)[:5]) + (", ..." if len(contigs) > 5 else "")
            raise InputError(
                f"--regions: contig {contig!r} is not in the FASTA (which has {shown})"
            )
        grouped.setdefault(name, []).append((start, end))
    return grouped


def check_regions(
    regions: dict[str, list[tuple[int, int]]], lengths: Sequence[tuple[str, int]]
) -> None:
    """Raise InputError for a region past its contig's end (before reading any sequence)."""
    size = dict(lengths)
    for contig, spans in regions.items():
        for start, end in spans:
            if contig in size and end > size[contig]:
                raise InputError(
                    f"--regions: {contig}:{start + 1}-{end} reaches past the end of "
                    f"{contig} ({size[contig]} nt)"
                )


def gene_spans(genes: Iterable) -> dict[str, dict[str, list[Interval]]]:
    """contig -> strand -> sorted union of the genes' spans.

    ``genes`` have ``chrom``, ``strand``, ``start`` and ``end`` (0-based
    half-open), as ``trainers.data.Gene`` has.
    """
    spans: dict[str, dict[str, list[Interval]]] = {}
    for gene in genes:
        spans.setdefault(gene.chrom, {}).setdefault(gene.strand, []).append((gene.start, gene.end))
    return {
        contig: {strand: merge_intervals(v) for strand, v in by_strand.items()}
        for contig, by_strand in spans.items()
    }


@dataclass(frozen=True)
class _TableSpan:
    """One row of a SpliceAI-style table as a gene span (0-based half-open)."""

    chrom: str
    strand: str
    start: int
    end: int


def annotation_spans(
    annotation: str,
    contigs: Sequence[str],
    *,
    transcripts: str = "canonical",
    biotype: str | None = "all",
) -> dict[str, dict[str, list[Interval]]]:
    """contig -> strand -> sorted union of the gene spans of what ``-A`` names.

    Parameters
    ----------
    annotation
        ``grch37`` or ``grch38`` (the tables shipped with SpliceAI), a
        SpliceAI-style table (plain or gzip, recognised by its header line),
        or a GTF/GFF3 (plain or gzip).  A table row is the span
        ``[TX_START, TX_END)`` on its strand, as ``annotate`` uses it; a
        GTF/GFF3 gives the genes of :func:`spliceannot.trainers.data.load_genes`.
    contigs
        The FASTA's contig names (``chr1`` and ``1`` match); table rows on
        other contigs are skipped with a warning.
    transcripts, biotype
        For a GTF/GFF3.  A table's rows are used as they are (``transcripts``
        does not apply); a ``biotype`` other than ``all`` needs a GTF/GFF3.

    Raises
    ------
    InputError
        A missing or malformed file, a biotype asked of a table, or no row
        on the FASTA's contigs; the message names the file.
    """
    from spliceannot.readers.annotation import BUILTIN_TABLES, builtin_table_path, read_table

    if annotation in BUILTIN_TABLES:
        path = builtin_table_path(annotation)
    else:
        path = Path(annotation)
        if not path.is_file():
            raise InputError(
                f"{annotation}: annotation not found "
                "(expected grch37, grch38, a SpliceAI-style table or a GTF/GFF3)"
            )
        if not _is_spliceai_table(path):
            from spliceannot.trainers.data import load_genes

            return gene_spans(load_genes(path, contigs, transcripts=transcripts, biotype=biotype))
    if biotype not in (None, "all"):
        raise InputError(
            f"{annotation}: --biotype {biotype} needs a GTF/GFF3 "
            "(a SpliceAI-style table has no biotypes); use --biotype all"
        )
    matcher = ContigMatcher(contigs)
    spans, missing = [], {}
    for row in read_table(path):
        contig = matcher.resolve(row.chrom)
        if contig is None:
            missing[row.chrom] = missing.get(row.chrom, 0) + 1
        elif row.tx_end > row.tx_start:
            spans.append(_TableSpan(contig, row.strand, row.tx_start, row.tx_end))
    if missing:
        names = ", ".join(list(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        if not spans:
            shown = ", ".join(list(contigs)[:5]) + (", ..." if len(contigs) > 5 else "")
            raise InputError(
                f"{annotation}: none of its contigs ({names}) is a contig of the FASTA ({shown})"
            )
        log.warning("%s: skipped %d rows on contigs not in the FASTA (%s)",
                    annotation, sum(missing.values()), names)  # fmt: skip
    if not spans:
        raise InputError(f"{annotation}: no transcript rows with a non-empty span")
    return gene_spans(spans)


def _is_spliceai_table(path: Path) -> bool:
    """Whether the file (plain or gzip) starts with a SpliceAI-style table's header line."""
    from spliceannot.readers.annotation import TABLE_COLUMNS

    try:
        with open(path, "rb") as handle:
            packed = handle.read(2) == b"\x1f\x8b"
        with (gzip.open if packed else open)(path, "rb") as handle:
            first = handle.readline(4096)
    except (OSError, EOFError):
        return False  # the GTF/GFF3 reader reports why the file cannot be read
    fields = first.decode("utf-8", "replace").rstrip("\r\n").split("\t")
    return set(TABLE_COLUMNS) <= set(fields)


@dataclass
class ContigPlan:
    """What is predicted on one contig: per strand, sorted disjoint intervals."""

    contig: str
    length: int
    intervals: dict[str, list[Interval]] = field(default_factory=dict)
    skipped: int = 0  # bases of the wanted intervals left out as runs of N (all strands)

    @property
    def positions(self) -> int:
        return sum(end - start for spans in self.intervals.values() for start, end in spans)


def plan_contig(
    contig: str,
    sequence: bytes | bytearray,
    *,
    strands: Sequence[str] = STRANDS,
    regions: Sequence[tuple[int, int]] | None = None,
    genes: dict[str, list[Interval]] | None = None,
    skip_n: int = DEFAULT_SKIP_N,
) -> ContigPlan:
    """The intervals of one contig to predict.

    Parameters
    ----------
    strands
        Strands scored without ``genes``; with ``genes``, the genes' strands
        among these.
    regions
        0-based half-open ``(start, end)``; ``end = -1`` is the contig's end.
        Only positions inside them are predicted.
    genes
        strand -> gene spans: only positions inside genes, on their strand.
    skip_n
        Runs of at least this many non-ACGT bases are left out (0: none).

    Raises
    ------
    InputError
        If a region reaches past the contig's end.
    """
    length = len(sequence)
    whole = [(0, length)]
    if regions is not None:
        spans = []
        for start, end in regions:
            end = length if end == -1 else end
            if end > length:
                raise InputError(
                    f"--regions: {contig}:{start + 1}-{end} reaches past the end of "
                    f"{contig} ({length} nt)"
                )
            spans.append((start, end))
        whole = merge_intervals(spans)
    if genes is not None:
        beyond = sum(1 for spans in genes.values() for _, end in spans if end > length)
        if beyond:
            log.warning("%s: %d gene region(s) reach past its end (%d nt); predicted up to the end",
                        contig, beyond, length)  # fmt: skip
    holes = n_runs(sequence, skip_n)
    plan = ContigPlan(contig, length)
    for strand in strands:
        wanted = whole if genes is None else intersect_intervals(whole, genes.get(strand, []))
        if not wanted:
            continue
        kept = subtract_intervals(wanted, holes)
        plan.skipped += sum(e - s for s, e in wanted) - sum(e - s for s, e in kept)
        if kept:
            plan.intervals[strand] = kept
    return plan


# ----------------------------------------------------------------------------- writers


class _Staged:
    """Temporary files beside their targets, published together by :meth:`publish`."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, Path]] = []

    def add(self, path: str | os.PathLike) -> str:
        target = Path(path)
        temporary = temporary_beside(target)
        self.pairs.append((temporary, target))
        return temporary

    def publish(self) -> None:
        for temporary, target in self.pairs:
            publish(temporary, target)
        self.pairs = []

    def discard(self) -> None:
        for temporary, _ in self.pairs:
            discard(temporary)
        self.pairs = []


class TrackWriter:
    """A file format fed contig by contig with :class:`Block` s.

    Blocks arrive per contig in FASTA order; within a contig, each strand's
    blocks arrive in genomic order (the strands may interleave).
    """

    def __init__(self) -> None:
        self._staged = _Staged()

    @property
    def paths(self) -> list[Path]:
        return [target for _, target in self._staged.pairs]

    def begin_contig(self, contig: str, length: int) -> None:
        """A new contig starts."""

    def write(self, block: Block) -> None:
        raise NotImplementedError

    def end_contig(self, contig: str) -> None:
        """The contig's blocks are all written."""

    def close(self) -> None:
        """Flush and close the temporary files (not yet at their paths)."""

    def publish(self) -> None:
        """Move the complete files to their paths."""
        self._staged.publish()

    def abort(self) -> None:
        """Close quietly and delete the temporary files."""
        with contextlib.suppress(Exception):
            self.close()
        self._staged.discard()


def track_paths(
    prefix: str | os.PathLike, suffix: str, strands: Sequence[str]
) -> dict[tuple[str, str], Path]:
    """``PREFIX.CLASS.STRAND.SUFFIX`` per (class, strand), e.g. ``out.acceptor.plus.bedGraph``."""
    return {
        (name, strand): Path(f"{os.fspath(prefix)}.{name}.{STRAND_WORDS[strand]}.{suffix}")
        for name in CLASS_COLUMNS
        for strand in strands
    }


def format_values(values: np.ndarray) -> list[str]:
    """Probabilities as printed: ``%.4g`` of the float32 value."""
    return [VALUE_FORMAT.format(v) for v in values.tolist()]


class BedGraphWriter(TrackWriter):
    """bedGraph per class and strand of the positions with ``p >= threshold``.

    Runs of adjacent positions whose *printed* values are equal are merged
    into one line, whatever the chunks, so the text depends only on the
    probabilities.  No track line; 0-based half-open coordinates.
    """

    def __init__(self, prefix: str | os.PathLike, strands: Sequence[str], threshold: float) -> None:
        super().__init__()
        self.threshold = np.float32(threshold)
        self._handles = {}
        self._pending: dict[tuple[str, str], list | None] = {}
        for key, path in track_paths(prefix, "bedGraph", strands).items():
            self._handles[key] = open(self._staged.add(path), "w", encoding="ascii", newline="\n")
            self._pending[key] = None

    def write(self, block: Block) -> None:
        for name, column in CLASS_COLUMNS.items():
            key = (name, block.strand)
            if key not in self._handles:
                continue
            values = block.probs[:, column]
            index = np.flatnonzero(values >= self.threshold)
            if not len(index):
                continue
            lines = []
            pending = self._pending[key]  # [contig, start, end, text] of the open run
            positions = (index + block.start).tolist()
            for position, text in zip(positions, format_values(values[index])):
                same = pending and pending[0] == block.contig and pending[3] == text
                if same and pending[2] == position:
                    pending[2] += 1
                    continue
                if pending:
                    lines.append(_bedgraph_line(pending))
                pending = [block.contig, position, position + 1, text]
            self._pending[key] = pending
            self._handles[key].write("".join(lines))

    def end_contig(self, contig: str) -> None:
        for key, pending in self._pending.items():
            if pending:
                self._handles[key].write(_bedgraph_line(pending))
            self._pending[key] = None

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


def _bedgraph_line(run: list) -> str:
    return f"{run[0]}\t{run[1]}\t{run[2]}\t{run[3]}\n"


class BedWriter(TrackWriter):
    """Called sites (``p >= threshold``) as BED6+1, sorted by position, strand, class.

    Columns: contig, start, end (the one labelled base), ``acceptor`` or
    ``donor``, score ``min(1000, int(1000 * p))``, strand, probability
    (``%.4g``).  A contig's calls are held until its end, then sorted.
    """

    def __init__(self, path: str | os.PathLike, threshold: float) -> None:
        super().__init__()
        self.threshold = np.float32(threshold)
        self._handle = open(self._staged.add(path), "w", encoding="ascii", newline="\n")
        self._calls: list[tuple[np.ndarray, int, int, np.ndarray]] = []
        self.count = 0

    def write(self, block: Block) -> None:
        strand_rank = STRANDS.index(block.strand)
        for rank, column in enumerate(CLASS_COLUMNS.values()):
            values = block.probs[:, column]
            index = np.flatnonzero(values >= self.threshold)
            if len(index):
                self._calls.append((index + block.start, strand_rank, rank, values[index]))

    def end_contig(self, contig: str) -> None:
        if not self._calls:
            return
        positions = np.concatenate([c[0] for c in self._calls])
        strands = np.concatenate([np.full(len(c[0]), c[1], dtype=np.int8) for c in self._calls])
        classes = np.concatenate([np.full(len(c[0]), c[2], dtype=np.int8) for c in self._calls])
        values = np.concatenate([c[3] for c in self._calls])
        self._calls = []
        order = np.lexsort((classes, strands, positions))
        names = list(CLASS_COLUMNS)
        lines = []
        for position, strand, rank, value, text in zip(
            positions[order].tolist(), strands[order].tolist(), classes[order].tolist(),
            values[order].tolist(), format_values(values[order]),
        ):  # fmt: skip
            score = min(1000, int(1000 * value))
            fields = (contig, position, position + 1, names[rank], score, STRANDS[strand], text)
            lines.append("\t".join(map(str, fields)) + "\n")
        self._handle.write("".join(lines))
        self.count += len(lines)

    def close(self) -> None:
        self._handle.close()


def require_pybigwig():
    """Import pyBigWig, or raise InputError saying how to install it."""
    try:
        import pyBigWig
    except ImportError:
        raise InputError("--bigwig needs pyBigWig: pip install pyBigWig") from None
    return pyBigWig


class BigWigWriter(TrackWriter):
    """Full-resolution bigWig per class and strand: every predicted position, float32.

    Parameters
    ----------
    lengths
        Every contig and its length, in the order the blocks will arrive
        (the FASTA's order): the files' header.
    """

    def __init__(
        self, prefix: str | os.PathLike, strands: Sequence[str], lengths: Sequence[tuple[str, int]]
    ) -> None:
        super().__init__()
        pyBigWig = require_pybigwig()
        self._files = {}
        header = [(name, int(length)) for name, length in lengths if length > 0]
        for key, path in track_paths(prefix, "bw", strands).items():
            handle = pyBigWig.open(self._staged.add(path), "w")
            if handle is None:
                raise InputError(f"{path}: cannot write a bigWig file here")
            self._files[key] = handle
            handle.addHeader(header, maxZooms=10)

    def write(self, block: Block) -> None:
        for name, column in CLASS_COLUMNS.items():
            handle = self._files.get((name, block.strand))
            if handle is not None and len(block.probs):
                values = block.probs[:, column].astype(np.float64)
                handle.addEntries(block.contig, block.start, values=values, span=1, step=1)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files = {}


def _hdf5_name(contig: str) -> str:
    return contig.replace("%", "%25").replace("/", "%2F")


class Hdf5Writer(TrackWriter):
    """Full-resolution arrays: dataset ``/<contig>/<plus|minus>`` of shape ``(length, 2)``.

    Columns acceptor, donor; positions that were not predicted hold NaN.
    ``/`` and ``%`` in contig names are written ``%2F`` and ``%25``; each
    group's ``contig`` attribute holds the real name.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        strands: Sequence[str],
        dtype: str = "float16",
        attributes: dict | None = None,
    ) -> None:
        super().__init__()
        import h5py

        self.strands = tuple(strands)
        self.dtype = np.dtype(dtype)
        self._file = h5py.File(self._staged.add(path), "w")
        attrs = self._file.attrs
        attrs["format"], attrs["version"] = HDF5_FORMAT, HDF5_VERSION
        attrs["columns"] = list(CLASS_COLUMNS)
        attrs["coordinates"] = "row i = 0-based genomic base i; NaN = not predicted"
        for key, value in (attributes or {}).items():
            attrs[key] = value
        self._datasets: dict[str, object] = {}

    def begin_contig(self, contig: str, length: int) -> None:
        group = self._file.create_group(_hdf5_name(contig))
        group.attrs["contig"] = contig
        group.attrs["length"] = length
        if length == 0:
            self._datasets = {}
            return
        chunk = (min(length, 1 << 16), 2)
        self._datasets = {
            strand: group.create_dataset(
                STRAND_WORDS[strand], (length, 2), dtype=self.dtype, chunks=chunk,
                fillvalue=np.nan, compression="gzip", compression_opts=1, shuffle=True,
            )  # fmt: skip
            for strand in self.strands
        }

    def write(self, block: Block) -> None:
        dataset = self._datasets.get(block.strand)
        if dataset is not None and len(block.probs):
            dataset[block.start : block.end] = block.probs[:, 1:3].astype(self.dtype)

    def close(self) -> None:
        if self._file:
            self._file.close()


# ----------------------------------------------------------------------------- the genome


def fasta_contigs(path: str | os.PathLike) -> list[str]:
    """The FASTA's contig names in file order (:func:`spliceannot.trainers.data.fasta_contigs`)."""
    from spliceannot.trainers.data import fasta_contigs as names

    return names(path)


def has_index(path: str | os.PathLike) -> bool:
    """Whether a ``.fai`` index lies beside the FASTA."""
    return Path(os.fspath(path) + ".fai").is_file()


def planned_positions(
    contigs: Sequence[str],
    lengths: Sequence[tuple[str, int]] | None,
    strands: Sequence[str],
    regions: dict[str, list[tuple[int, int]]] | None = None,
    genes: dict[str, dict[str, list[Interval]]] | None = None,
) -> int | None:
    """Positions (per strand, runs of N included) a run will go through; ``None`` if unknown.

    Unknown means that contig lengths are needed (no ``regions`` or ``genes``
    bound the work, or a region is a whole contig) and ``lengths`` is ``None``.
    """
    size = dict(lengths) if lengths is not None else None
    total = 0
    for contig in contigs:
        if regions is not None and contig not in regions:
            continue
        if genes is not None and contig not in genes:
            continue
        spans = None
        if regions is not None:
            if any(end == -1 for _, end in regions[contig]):
                if size is None:
                    return None
                spans = [(s, size.get(contig, 0) if e == -1 else e) for s, e in regions[contig]]
            else:
                spans = list(regions[contig])
            spans = merge_intervals(spans)
        for strand in strands:
            if genes is not None:
                wanted = genes[contig].get(strand, [])
                wanted = wanted if spans is None else intersect_intervals(spans, wanted)
            elif spans is not None:
                wanted = spans
            elif size is None:
                return None
            else:
                wanted = [(0, size.get(contig, 0))]
            total += sum(end - start for start, end in wanted)
    return total


def fasta_lengths(path: str | os.PathLike) -> list[tuple[str, int]]:
    """Contig names and lengths in file order (from the ``.fai`` if any, else the FASTA)."""
    from spliceannot.trainers.data import stream_fasta

    index = Path(os.fspath(path) + ".fai")
    seen: dict[str, int] = {}
    if index.is_file():
        with open(index) as handle:
            for line in handle:
                fields = line.split("\t")
                if len(fields) >= 2 and fields[1].strip().isdigit():
                    seen.setdefault(fields[0], int(fields[1]))  # the first of repeated names
        if seen:
            return list(seen.items())
    for name, sequence in stream_fasta(path):
        seen.setdefault(name, len(sequence))
        del sequence
    return list(seen.items())


@dataclass
class PredictSummary:
    """What a :func:`predict_genome` run did."""

    contigs: int = 0
    positions: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STRANDS})
    skipped_n: int = 0
    sites: int | None = None
    outputs: list[Path] = field(default_factory=list)

    @property
    def predicted(self) -> int:
        return sum(self.positions.values())


def predict_genome(
    fasta: str | os.PathLike,
    predictor: GenomePredictor,
    writers: Sequence[TrackWriter],
    *,
    strands: Sequence[str] = STRANDS,
    regions: dict[str, list[tuple[int, int]]] | None = None,
    genes: dict[str, dict[str, list[Interval]]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PredictSummary:
    """Stream ``fasta`` through ``predictor`` into ``writers``, then publish their files.

    Parameters
    ----------
    fasta
        Plain, gzip or bgzip FASTA; read one contig at a time.
    predictor
        Chunked inference (its ``skip_n`` applies).
    writers
        Output formats; on any error (or interrupt) they are all discarded
        and nothing appears at their paths.
    strands
        Strands to score.
    regions
        contig -> region list (:func:`regions_by_contig`): only these positions.
    genes
        contig -> strand -> spans (:func:`gene_spans`): only positions inside
        genes, on the gene's strand.
    progress
        Called with the number of bases (per strand) done.

    Returns
    -------
    PredictSummary
    """
    from spliceannot.trainers.data import stream_fasta

    wanted = None
    if regions is not None:
        wanted = set(regions)
    if genes is not None:
        wanted = set(genes) if wanted is None else wanted & set(genes)
    summary = PredictSummary()
    work = _genome_batches(fasta, predictor, wanted, strands, regions, genes)
    try:
        for step, probs in predictor.map_batches(work):
            _apply(step, probs, predictor, writers, summary, progress)
        for writer in writers:
            writer.close()
        for writer in writers:
            summary.outputs.extend(writer.paths)
            writer.publish()
    except BaseException:
        work.close()
        for writer in writers:
            writer.abort()
        raise
    for writer in writers:
        if isinstance(writer, BedWriter):
            summary.sites = writer.count
    return summary


def _genome_batches(
    fasta: str | os.PathLike,
    predictor: GenomePredictor,
    wanted: set[str] | None,
    strands: Sequence[str],
    regions: dict[str, list[tuple[int, int]]] | None,
    genes: dict[str, dict[str, list[Interval]]] | None,
) -> Iterator[tuple[tuple, np.ndarray | None]]:
    """The work of a genome, in output order: ``(("begin", plan), None)``, then
    ``(("batch", contig, strand, chunks), codes)`` per forward pass, then ``(("end", plan), None)``
    for each contig.  One contig's sequence is held at a time (while its batches are made)."""
    from spliceannot.trainers.data import stream_fasta

    done: set[str] = set()
    for contig, sequence in stream_fasta(fasta, wanted=wanted):
        if contig in done:
            continue  # a repeated name: the first record counts
        done.add(contig)
        plan = plan_contig(
            contig, sequence, strands=strands,
            regions=None if regions is None else regions[contig],
            genes=None if genes is None else genes[contig], skip_n=predictor.skip_n,
        )  # fmt: skip
        yield ("begin", plan), None
        for strand, intervals in plan.intervals.items():
            for chunks, codes in predictor.batches(sequence, intervals, strand):
                yield ("batch", contig, strand, chunks), codes
        del sequence  # before the next contig is read
        yield ("end", plan), None


def _apply(
    step: tuple,
    probs: np.ndarray | None,
    predictor: GenomePredictor,
    writers: Sequence[TrackWriter],
    summary: PredictSummary,
    progress: Callable[[int], None] | None,
) -> None:
    """Hand one step of :func:`_genome_batches`, with its probabilities, to the writers."""
    if step[0] == "begin":
        plan = step[1]
        summary.contigs += 1
        summary.skipped_n += plan.skipped
        for writer in writers:
            writer.begin_contig(plan.contig, plan.length)
    elif step[0] == "batch":
        _, contig, strand, chunks = step
        for block in predictor.blocks_of(contig, chunks, strand, probs):
            for writer in writers:
                writer.write(block)
            summary.positions[strand] += len(block.probs)
            if progress is not None:
                progress(len(block.probs))
    else:
        plan = step[1]
        if progress is not None and plan.skipped:
            progress(plan.skipped)
        for writer in writers:
            writer.end_contig(plan.contig)
