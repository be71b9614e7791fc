"""A gene's labelled windows (the layout of :mod:`spliceannot.trainers.layout`).

Labels are in transcript orientation: 1 (acceptor) is the first base of an
exon that follows an intron, 2 (donor) the last base of an exon that
precedes an intron.  On a ``-`` gene the acceptor of an intron ``[a, b)``
(0-based half-open) is therefore genomic ``a - 1`` and its donor genomic
``b``; on a ``+`` gene the donor is ``a - 1`` and the acceptor ``b``.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from spliceannot.trainers.genes import SKIP_NOT_IN_FASTA, SKIP_PAST_END, Gene, load_genes
from spliceannot.trainers.layout import CONTEXT, POSITIONS, UNLABELLED, WIDTH

from spliceannot.classes import ACCEPTOR, DONOR
from spliceannot.encoding import code_rows, complement_text
from spliceannot.readers.fasta_stream import fasta_contigs, stream_fasta
from spliceannot.values import Span
from spliceannot.windows import window_codes

log = logging.getLogger(__name__)

FLANK_SEQUENCE_CHOICES = ("n", "genome")

# (donor, acceptor) dinucleotides of an intron in transcript orientation
CANONICAL_DINUCLEOTIDES = frozenset({(b"GT", b"AG"), (b"GC", b"AG"), (b"AT", b"AC")})


NOTE_NONCANONICAL = "non-canonical introns (sites not labelled)"

_ONE_HOT = code_rows(np.int8)  # base code -> one-hot row (layout: int8 x)



@dataclass
class GeneWindows:
    """The windows of one gene, in transcript orientation.

    Attributes
    ----------
    chrom, strand, gene
        The contig (FASTA's name), the strand and the gene's name.
    starts
        Per window, the 0-based genomic coordinate of label position 0
        (label ``i`` is ``start + i`` on ``+``, ``start - i`` on ``-``).
    x
        int8 ``(k, 15000, 4)`` one-hot sequence (A, C, G, T; N = zeros).
    y
        int8 ``(k, 5000)`` labels: 0 neither, 1 acceptor, 2 donor, -1 past
        the gene's end.
    start, end
        The gene region (0-based half-open genomic).
    transcripts
        Number of transcripts whose sites are labelled.
    """

    chrom: str
    strand: str
    gene: str
    starts: list[int]
    x: np.ndarray
    y: np.ndarray
    start: int = 0
    end: int = 0
    transcripts: int = 1

    @property
    def acceptors(self) -> int:
        return int(np.count_nonzero(self.y == ACCEPTOR))

    @property
    def donors(self) -> int:
        return int(np.count_nonzero(self.y == DONOR))


def gene_windows(
    gene: Gene,
    sequence: bytes | bytearray,
    *,
    canonical_introns: bool = False,
    flank_sequence: str = "n",
    counts: Counter | None = None,
) -> GeneWindows:
    """Cut one gene into labelled windows.

    Parameters
    ----------
    gene
        The gene; its region must lie within ``sequence``.
    sequence
        The whole contig, upper case.
    canonical_introns
        Label only introns whose dinucleotides (transcript orientation) are
        GT-AG, GC-AG or AT-AC; the others are counted in ``counts``.
    flank_sequence
        ``n``: everything outside the gene region is N.  ``genome``: the
        genomic sequence, N only beyond the contig's ends.
    counts
        Where non-canonical introns are counted.

    Returns
    -------
    GeneWindows
        ``ceil(L / 5000)`` windows; window ``k`` labels transcript positions
        ``[5000 k, 5000 k + 5000)`` with 5000 nt of context on each side.
    """
    if flank_sequence not in FLANK_SEQUENCE_CHOICES:
        raise ValueError(f"flank_sequence must be one of {FLANK_SEQUENCE_CHOICES}")
    n = gene.windows
    codes = _oriented_codes(gene, sequence, n, flank_sequence)
    one_hot = _ONE_HOT[codes]
    x = np.stack([one_hot[k * POSITIONS : k * POSITIONS + WIDTH] for k in range(n)])
    acceptors, donors = gene_sites(
        gene, sequence, canonical_introns=canonical_introns, counts=counts
    )
    y = _labels(gene, acceptors, donors, n)
    if gene.strand == "+":
        starts = [gene.start + k * POSITIONS for k in range(n)]
    else:
        starts = [gene.end - 1 - k * POSITIONS for k in range(n)]
    return GeneWindows(
        gene.chrom, gene.strand, gene.name, starts, x, y,
        gene.start, gene.end, len(gene.transcripts),
    )


def _oriented_codes(gene: Gene, sequence, n: int, flank_sequence: str) -> np.ndarray:
    """Base codes (0 N, 1-4 ACGT) of the padded region, in transcript orientation."""
    span = n * POSITIONS + 2 * CONTEXT
    lo = gene.start - CONTEXT if gene.strand == "+" else gene.end + CONTEXT - span
    shown = Span(gene.start, gene.end) if flank_sequence == "n" else None
    return window_codes(sequence, lo, lo + span, gene.strand, shown)


def gene_sites(
    gene: Gene,
    sequence: bytes | bytearray,
    *,
    canonical_introns: bool = False,
    counts: Counter | None = None,
) -> tuple[list[int], list[int]]:
    """Genomic 0-based positions of the gene's acceptors and donors (union of its transcripts)."""
    acceptors, donors = set(), set()
    for a, b in gene.introns():
        if canonical_introns and not is_canonical_intron(sequence, gene.strand, a, b):
            if counts is not None:
                counts[NOTE_NONCANONICAL] += 1
            continue
        if gene.strand == "+":
            donors.add(a - 1)
            acceptors.add(b)
        else:
            acceptors.add(a - 1)
            donors.add(b)
    return sorted(acceptors), sorted(donors)


def is_canonical_intron(sequence: bytes | bytearray, strand: str, a: int, b: int) -> bool:
    """Whether intron ``[a, b)`` reads GT-AG, GC-AG or AT-AC in transcript orientation."""
    first, last = bytes(sequence[a : a + 2]), bytes(sequence[b - 2 : b])
    if strand == "-":
        first, last = reverse_complement_bases(last), reverse_complement_bases(first)
    return (first, last) in CANONICAL_DINUCLEOTIDES


def reverse_complement_bases(bases: bytes) -> bytes:
    return complement_text(bases)[::-1]


def _labels(gene: Gene, acceptors: list[int], donors: list[int], n: int) -> np.ndarray:
    """``(n, 5000)`` labels; a base that is both an acceptor and a donor is a donor."""
    y = np.zeros(n * POSITIONS, dtype=np.int8)
    y[gene.length :] = UNLABELLED
    for positions, label in ((acceptors, ACCEPTOR), (donors, DONOR)):
        genomic = np.asarray(positions, dtype=np.int64)
        offsets = genomic - gene.start if gene.strand == "+" else gene.end - 1 - genomic
        offsets = offsets[(offsets >= 0) & (offsets < gene.length)]
        y[offsets] = label
    return y.reshape(n, POSITIONS)


def iter_gene_windows(
    fasta: str | os.PathLike,
    annotation: str | os.PathLike,
    *,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    canonical_introns: bool = False,
    flank_sequence: str = "n",
    chromosomes: Iterable[str] | None = None,
    counts: Counter | None = None,
) -> Iterator[GeneWindows]:
    """Every gene's windows, in FASTA contig order then by position, without writing files.

    The annotation is read (and its errors raised) when this is called; the
    FASTA is read one contig at a time as the iterator is consumed.  The
    options are those of :func:`create_data`; ``chromosomes`` keeps only
    genes on those contigs, and ``counts`` receives the skip counts.

    Raises
    ------
    InputError
        If the inputs are unreadable or leave no gene.
    """
    counts = Counter() if counts is None else counts
    genes = load_genes(
        annotation,
        fasta_contigs(fasta),
        transcripts=transcripts,
        biotype=biotype,
        chromosomes=chromosomes,
        counts=counts,
    )
    produced = produce_windows(
        genes, fasta, canonical_introns=canonical_introns,
        flank_sequence=flank_sequence, counts=counts,
    )  # fmt: skip
    return (windows for _, windows in produced)


def produce_windows(
    genes: list[Gene],
    fasta: str | os.PathLike,
    *,
    canonical_introns: bool,
    flank_sequence: str,
    counts: Counter,
    keep: Callable[[int, bytearray], bool] | None = None,
) -> Iterator[tuple[int, GeneWindows]]:
    """``(gene index, windows)`` for the genes, streaming the FASTA once.

    ``keep(index, contig sequence)`` may drop a gene before it is cut.
    Genes past their contig's end, or on contigs the FASTA turns out not to
    have, are counted and skipped.
    """
    by_contig: dict[str, list[int]] = {}
    for index, gene in enumerate(genes):
        by_contig.setdefault(gene.chrom, []).append(index)
    done: set[str] = set()
    for contig, sequence in stream_fasta(fasta, wanted=by_contig):
        if contig in done:
            del sequence
            continue
        done.add(contig)
        past_end = 0
        for index in by_contig[contig]:
            gene = genes[index]
            if gene.end > len(sequence):
                past_end += len(gene.transcripts)
                continue
            if keep is not None and not keep(index, sequence):
                continue
            yield index, gene_windows(
                gene, sequence, canonical_introns=canonical_introns,
                flank_sequence=flank_sequence, counts=counts,
            )  # fmt: skip
        if past_end:
            counts[SKIP_PAST_END] += past_end
            log.warning(
                "%s: skipped %d transcripts past the end of %s (%d nt): is the annotation "
                "for this assembly?", fasta, past_end, contig, len(sequence),
            )  # fmt: skip
        del sequence  # before the next contig is read: one contig in memory at a time
    absent = [contig for contig in by_contig if contig not in done]
    if absent:
        lost = sum(len(genes[i].transcripts) for contig in absent for i in by_contig[contig])
        counts[SKIP_NOT_IN_FASTA] += lost
        log.warning("%s: contigs %s are indexed but not in the file; skipped %d transcripts",
                    fasta, ", ".join(absent[:5]), lost)
