"""Splice-site training data from a genome FASTA and its gene models.

The pieces, in the order ``create-data`` uses them:

1. :func:`load_genes`: transcripts from a GTF/GFF3 (the same reader and the
   same canonical-transcript rules as ``annotate``), matched to the FASTA's
   contigs and grouped into genes.
2. :func:`assign_splits`: every gene to ``train``, ``validation`` or
   ``test`` (by chromosome lists, SpliceAI's human split, or a seeded,
   length-balanced random split of chromosomes or genes).
3. :func:`~spliceannot.readers.fasta_stream.stream_fasta`: the genome read one contig at a time, so only one
   contig's sequence is ever in memory.
4. :func:`gene_windows`: a gene's labelled windows (the layout of
   :mod:`spliceannot.trainers.layout`).
5. :func:`create_data`: all of the above, written to ``train.h5``,
   ``validation.h5`` and ``test.h5`` as the windows are produced, plus
   ``summary.tsv`` (and ``paralogs_removed.tsv``).

:func:`iter_gene_windows` gives the windows without writing anything.

Labels are in transcript orientation: 1 (acceptor) is the first base of an
exon that follows an intron, 2 (donor) the last base of an exon that
precedes an intron.  On a ``-`` gene the acceptor of an intron ``[a, b)``
(0-based half-open) is therefore genomic ``a - 1`` and its donor genomic
``b``; on a ``+`` gene the donor is ``a - 1`` and the acceptor ``b``.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spliceannot.atomic import discard, publish, temporary_beside
from spliceannot.encoding import BASE_CODES, COMPLEMENT_CODES
from spliceannot.errors import InputError
from spliceannot.readers.annotation import Transcript
from spliceannot.readers.contigs import ContigMatcher
from spliceannot.readers.fasta_stream import fasta_contigs, open_binary, stream_fasta
from spliceannot.readers.gtf import TRANSCRIPT_CHOICES, read_gene_models
from spliceannot.trainers.layout import (
    CLASSES,
    CONTEXT,
    FORMAT,
    POSITIONS,
    SPLITS,
    UNLABELLED,
    VERSION,
    WIDTH,
)

log = logging.getLogger(__name__)

FLANK_SEQUENCE_CHOICES = ("n", "genome")
SPLIT_CHOICES = ("human", "random")
SPLIT_BY_CHOICES = ("chromosome", "gene")
HUMAN_TEST_CHROMS = ("chr1", "chr3", "chr5", "chr7", "chr9")  # SpliceAI's test chromosomes
# (donor, acceptor) dinucleotides of an intron in transcript orientation
CANONICAL_DINUCLEOTIDES = frozenset({(b"GT", b"AG"), (b"GC", b"AG"), (b"AT", b"AC")})
ACCEPTOR, DONOR = CLASSES.index("acceptor"), CLASSES.index("donor")

SPLIT_FILES = {split: f"{split}.h5" for split in SPLITS}
SUMMARY_FILE = "summary.tsv"
PARALOG_FILE = "paralogs_removed.tsv"
MIN_PARALOG_COVERAGE = 0.5  # fraction of the query a paralog hit must cover

SKIP_NOT_IN_FASTA = "transcripts on seqids not in the FASTA"
SKIP_PAST_END = "transcripts past the end of their contig"
NOTE_SINGLE_EXON = "single-exon transcripts (kept, no sites)"
NOTE_NO_INTRON = "adjacent exons that touch or overlap (no intron, no sites)"
NOTE_NONCANONICAL = "non-canonical introns (sites not labelled)"
NOTE_PARALOGS = "genes removed as paralogs of test genes"

_BIOTYPE_KEYS = ("gene_type", "gene_biotype", "transcript_type", "transcript_biotype", "biotype")
_BIOTYPE_PATTERN = re.compile(
    rb'(?:^|[\t; ])(?:gene_type|gene_biotype|transcript_type|transcript_biotype|biotype)'
    rb'(?: +"([^"]*)"|=([^;\t\r\n]*))'
)
_ONE_HOT = np.array(
    [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.int8
)
_COMPLEMENT = bytes.maketrans(b"ACGTN", b"TGCAN")


# ----------------------------------------------------------------------------- genes


@dataclass(frozen=True)
class Gene:
    """A gene region: one transcript, or overlapping isoforms of one gene.

    Attributes
    ----------
    name
        The gene's name (SpliceAI's SYMBOL).
    chrom
        The FASTA's name of the contig.
    strand
        ``+`` or ``-``.
    start, end
        0-based half-open genomic span (the union of the transcripts).
    transcripts
        The transcripts whose sites are labelled (exon coordinates 0-based
        half-open, on ``chrom``).
    """

    name: str
    chrom: str
    strand: str
    start: int
    end: int
    transcripts: tuple[Transcript, ...]

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def windows(self) -> int:
        """Number of windows: ``ceil(length / 5000)``."""
        return math.ceil(self.length / POSITIONS)

    def introns(self) -> list[tuple[int, int]]:
        """Distinct introns ``(a, b)`` (0-based half-open) of all transcripts, sorted."""
        found = set()
        for transcript in self.transcripts:
            found.update(transcript_introns(transcript))
        return sorted(found)

    def sort_key(self) -> tuple:
        return (self.chrom, self.start, self.end, self.strand, self.name)


def transcript_introns(transcript: Transcript) -> list[tuple[int, int]]:
    """The gaps ``(a, b)`` between consecutive exons; touching or overlapping exons give none."""
    exons = sorted(zip(transcript.exon_starts, transcript.exon_ends))
    return [(end, start) for (_, end), (start, _) in zip(exons, exons[1:]) if end < start]


def load_genes(
    annotation: str | os.PathLike,
    contigs: Sequence[str],
    *,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    chromosomes: Iterable[str] | None = None,
    counts: Counter | None = None,
) -> list[Gene]:
    """Read gene models and keep those on the FASTA's contigs.

    Parameters
    ----------
    annotation
        GTF or GFF3 (plain or gzip).
    contigs
        The FASTA's contig names in file order (:func:`fasta_contigs`);
        ``chr1`` and ``1`` match.
    transcripts
        ``canonical`` (one per gene, as ``annotate`` chooses) or ``all``
        (isoforms with the same name, strand and contig whose spans overlap
        form one gene whose sites are the union of theirs).
    biotype
        Keep only this biotype; ``None`` or ``all`` keeps every transcript.
    chromosomes
        Keep only genes on these contigs (``chr`` prefix optional).
    counts
        Skip and note counts by reason are added here.

    Returns
    -------
    list of Gene
        In FASTA contig order, then by position.

    Raises
    ------
    InputError
        If no usable gene remains; the message says why.
    """
    counts = Counter() if counts is None else counts
    wanted_biotype = None if biotype in (None, "all") else biotype
    if transcripts not in TRANSCRIPT_CHOICES:
        raise ValueError(f"transcripts must be one of {TRANSCRIPT_CHOICES}, not {transcripts!r}")
    models = read_gene_models(annotation, transcripts=transcripts, biotype=wanted_biotype)
    counts.update(models.skipped)
    if not models.transcripts:
        path = os.fspath(annotation)
        raise InputError(_no_transcripts_message(path, wanted_biotype, models.skipped))
    rows = _on_contigs(models.transcripts, contigs, annotation, counts)
    if chromosomes is not None:
        keys = {contig_key(name) for name in chromosomes}
        rows = [row for row in rows if contig_key(row.chrom) in keys]
        if not rows:
            raise InputError(f"{annotation}: no genes on {', '.join(sorted(set(chromosomes)))}")
    for row in rows:
        if len(row.exon_starts) == 1:
            counts[NOTE_SINGLE_EXON] += 1
        exons = len(set(zip(row.exon_starts, row.exon_ends)))
        gaps = exons - 1 - len(transcript_introns(row))
        if gaps > 0:
            counts[NOTE_NO_INTRON] += gaps
    order = {name: rank for rank, name in enumerate(contigs)}
    genes = group_genes(rows) if transcripts == "all" else [_single(row) for row in rows]
    genes.sort(key=lambda gene: (order[gene.chrom],) + gene.sort_key()[1:])
    return genes


def _on_contigs(
    rows: list[Transcript], contigs: Sequence[str], annotation, counts: Counter
) -> list[Transcript]:
    """Rows renamed to the FASTA's contig names; rows on other seqids counted and dropped."""
    matcher = ContigMatcher(contigs)
    kept, missing = [], Counter()
    for row in rows:
        contig = matcher.resolve(row.chrom)
        if contig is None:
            missing[row.chrom] += 1
        else:
            kept.append(row if contig == row.chrom else replace(row, chrom=contig))
    if missing:
        counts[SKIP_NOT_IN_FASTA] += sum(missing.values())
        names = ", ".join(sorted(missing)[:5]) + (", ..." if len(missing) > 5 else "")
        if not kept:
            raise InputError(
                f"{annotation}: none of its seqids ({names}) is a contig of the FASTA "
                f"({', '.join(list(contigs)[:5])}{', ...' if len(contigs) > 5 else ''})"
            )
        log.warning("%s: skipped %d transcripts on seqids not in the FASTA (%s)",
                    annotation, sum(missing.values()), names)
    return kept


def _no_transcripts_message(path: str, biotype: str | None, skipped: dict[str, int]) -> str:
    """Why a GTF/GFF3 gave no transcript: a missing biotype above all."""
    if biotype is not None:
        found = _biotypes(path)
        if not found:
            return (
                f"{path}: no transcripts of biotype {biotype}: the file has no biotype "
                f"attributes ({', '.join(_BIOTYPE_KEYS)}); use --biotype all"
            )
        common = ", ".join(value for value, _ in found.most_common(5))
        return (
            f"{path}: no transcripts of biotype {biotype} (the file's biotypes include "
            f"{common}); choose one with --biotype, or use --biotype all"
        )
    reasons = "; ".join(f"{reason}: {count}" for reason, count in skipped.items())
    return f"{path}: no usable transcripts" + (f" (skipped {reasons})" if reasons else "")


def _biotypes(path: str) -> Counter:
    """Biotype attribute values found in a GTF/GFF3 (a plain text scan)."""
    found: Counter = Counter()
    try:
        with open_binary(path) as handle:
            for line in handle:
                if line.startswith(b"#"):
                    continue
                for match in _BIOTYPE_PATTERN.finditer(line):
                    value = (match.group(1) or match.group(2) or b"").strip()
                    if value:
                        found[value.decode("utf-8", "replace")] += 1
    except (OSError, EOFError, zlib.error):
        pass
    return found


def _single(row: Transcript) -> Gene:
    return Gene(row.name, row.chrom, row.strand, row.tx_start, row.tx_end, (row,))


def group_genes(rows: Iterable[Transcript]) -> list[Gene]:
    """Transcripts with the same contig, strand and name whose spans overlap, as genes.

    The gene region is the union of the spans (a chain of overlaps joins).
    """
    by_name: dict[tuple[str, str, str], list[Transcript]] = {}
    for row in rows:
        by_name.setdefault((row.chrom, row.strand, row.name), []).append(row)
    genes = []
    for (chrom, strand, name), members in by_name.items():
        members.sort(key=lambda row: (row.tx_start, row.tx_end))
        cluster = [members[0]]
        end = members[0].tx_end
        for row in members[1:]:
            if row.tx_start < end:
                cluster.append(row)
                end = max(end, row.tx_end)
                continue
            genes.append(Gene(name, chrom, strand, cluster[0].tx_start, end, tuple(cluster)))
            cluster, end = [row], row.tx_end
        genes.append(Gene(name, chrom, strand, cluster[0].tx_start, end, tuple(cluster)))
    return genes


def contig_key(name: str) -> str:
    """A contig name without ``chr``; chrM, chrMT, M and MT all give ``M``."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    return "M" if bare.upper() in ("M", "MT") else bare


# ----------------------------------------------------------------------------- windows


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
    shown_lo, shown_hi = (gene.start, gene.end) if flank_sequence == "n" else (0, len(sequence))
    shown_lo, shown_hi = max(shown_lo, lo), min(shown_hi, lo + span)
    codes = np.zeros(span, dtype=np.uint8)
    if shown_hi > shown_lo:
        raw = np.frombuffer(sequence, dtype=np.uint8, count=shown_hi - shown_lo, offset=shown_lo)
        codes[shown_lo - lo : shown_hi - lo] = BASE_CODES[raw]
    if gene.strand == "-":
        codes = COMPLEMENT_CODES[codes[::-1]]
    return codes


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
        first, last = _reverse_complement(last), _reverse_complement(first)
    return (first, last) in CANONICAL_DINUCLEOTIDES


def _reverse_complement(bases: bytes) -> bytes:
    return bases.translate(_COMPLEMENT)[::-1]


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
    produced = _produce(
        genes, fasta, canonical_introns=canonical_introns,
        flank_sequence=flank_sequence, counts=counts,
    )  # fmt: skip
    return (windows for _, windows in produced)


def _produce(
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


# ----------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class SplitOptions:
    """How genes are split into train, validation and test.

    Attributes
    ----------
    method
        ``chroms``: genes on ``test_chroms`` are test, on ``val_chroms``
        validation, the rest train; with no ``val_chroms``, validation is a
        seeded ``val_fraction`` of the other genes (by count).  ``human`` is
        ``chroms`` with SpliceAI's test chromosomes 1, 3, 5, 7, 9.
        ``random``: whole chromosomes (``by="chromosome"``) or genes
        (``by="gene"``), shuffled with ``seed`` and given greedily to test
        then validation while that brings their share of gene bases closer
        to ``test_fraction`` and ``val_fraction``.
    """

    method: str = "human"
    test_chroms: tuple[str, ...] = ()
    val_chroms: tuple[str, ...] = ()
    by: str = "chromosome"
    test_fraction: float = 0.1
    val_fraction: float = 0.1
    seed: int = 42

    @classmethod
    def resolve(
        cls,
        split: str | None = None,
        *,
        test_chroms: Iterable[str] = (),
        val_chroms: Iterable[str] = (),
        by: str = "chromosome",
        test_fraction: float = 0.1,
        val_fraction: float = 0.1,
        seed: int = 42,
    ) -> SplitOptions:
        """Check a combination of ``create-data`` split options and fill in the default.

        With no ``split``: ``chroms`` if chromosome lists are given, else
        ``random`` when ``by="gene"``, else ``human``.

        Raises
        ------
        ValueError
            If the options contradict each other.
        """
        test_chroms, val_chroms = tuple(test_chroms), tuple(val_chroms)
        if split is not None and split not in SPLIT_CHOICES:
            raise ValueError(f"--split must be one of {', '.join(SPLIT_CHOICES)}, not {split!r}")
        if by not in SPLIT_BY_CHOICES:
            raise ValueError(f"--split-by must be one of {', '.join(SPLIT_BY_CHOICES)}, not {by!r}")
        for name, value in (("--test-fraction", test_fraction), ("--val-fraction", val_fraction)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if test_fraction + val_fraction > 1:
            raise ValueError("--test-fraction and --val-fraction add up to more than 1")
        if test_chroms or val_chroms:
            if split is not None:
                raise ValueError("--split cannot be combined with --test-chroms/--val-chroms")
            method = "chroms"
        else:
            method = split or ("random" if by == "gene" else "human")
        if method != "random" and by == "gene":
            raise ValueError("--split-by gene assigns genes at random: use it with --split random")
        if method == "human":
            test_chroms = HUMAN_TEST_CHROMS
        shared = {contig_key(c) for c in test_chroms} & {contig_key(c) for c in val_chroms}
        if shared:
            names = ", ".join(sorted(shared))
            raise ValueError(f"chromosomes {names} are both test and validation")
        return cls(method, test_chroms, val_chroms, by, test_fraction, val_fraction, seed)


def assign_splits(genes: Sequence[Gene], options: SplitOptions) -> list[str]:
    """The split of each gene (aligned with ``genes``); deterministic given the options."""
    if options.method == "random" and options.by == "gene":
        gene_bases = {index: gene.length for index, gene in enumerate(genes)}
        order = sorted(gene_bases, key=lambda index: genes[index].sort_key())
        by_gene = _balanced(order, gene_bases, options)
        return [by_gene[index] for index in range(len(genes))]
    if options.method == "random":
        chrom_bases: Counter = Counter()
        for gene in genes:
            chrom_bases[gene.chrom] += gene.length
        by_chrom = _balanced(sorted(chrom_bases), chrom_bases, options)
        return [by_chrom[gene.chrom] for gene in genes]
    return _by_chromosome_lists(genes, options)


def _balanced(items: list, weights: dict, options: SplitOptions) -> dict:
    """Shuffle ``items`` (given sorted) with the seed; fill test, then validation, greedily."""
    order = list(items)
    random.Random(options.seed).shuffle(order)
    total = sum(weights[item] for item in order)
    targets = {"test": options.test_fraction * total, "validation": options.val_fraction * total}
    filled = {"test": 0, "validation": 0}
    chosen = {}
    for item in order:
        chosen[item] = "train"
        for split in ("test", "validation"):
            target, now = targets[split], filled[split]
            if abs(now + weights[item] - target) < abs(now - target):
                chosen[item] = split
                filled[split] += weights[item]
                break
    return chosen


def _by_chromosome_lists(genes: Sequence[Gene], options: SplitOptions) -> list[str]:
    test = {contig_key(c) for c in options.test_chroms}
    validation = {contig_key(c) for c in options.val_chroms}
    present = {contig_key(gene.chrom) for gene in genes}
    lists = (("--test-chroms", options.test_chroms), ("--val-chroms", options.val_chroms))
    for flag, names in lists:
        unknown = [name for name in names if contig_key(name) not in present]
        if unknown and options.method != "human":
            log.warning("%s: no genes on %s", flag, ", ".join(unknown))
    splits = []
    for gene in genes:
        key = contig_key(gene.chrom)
        splits.append("test" if key in test else "validation" if key in validation else "train")
    if not options.val_chroms:
        rest = [i for i, split in enumerate(splits) if split == "train"]
        rest.sort(key=lambda i: genes[i].sort_key())
        count = round(options.val_fraction * len(rest))
        for index in random.Random(options.seed).sample(rest, count):
            splits[index] = "validation"
    return splits


# ----------------------------------------------------------------------------- paralogs


@dataclass(frozen=True)
class ParalogHit:
    """A train/validation gene whose spliced sequence maps to a test gene."""

    split: str
    gene: Gene
    test_gene: Gene
    identity: float
    coverage: float

    def line(self) -> str:
        g, t = self.gene, self.test_gene
        return "\t".join(
            [self.split, g.name, g.chrom, g.strand, str(g.start), str(g.end),
             t.name, t.chrom, f"{self.identity:.3f}", f"{self.coverage:.3f}"]
        )  # fmt: skip


PARALOG_COLUMNS = (
    "split", "gene", "chrom", "strand", "start", "end",
    "test_gene", "test_chrom", "identity", "query_coverage",
)  # fmt: skip


def require_mappy():
    """Import mappy, or raise InputError saying how to install it."""
    try:
        import mappy
    except ImportError:
        raise InputError(
            "--remove-paralogs needs mappy (minimap2's Python binding): pip install mappy"
        ) from None
    return mappy


def spliced_sequence(transcript: Transcript, sequence: bytes | bytearray) -> str:
    """The exons' bases joined, in transcript orientation."""
    exons = sorted(zip(transcript.exon_starts, transcript.exon_ends))
    joined = b"".join(bytes(sequence[start:end]) for start, end in exons)
    if transcript.strand == "-":
        joined = _reverse_complement(joined)
    return joined.decode("ascii", "replace")


class ParalogScreen:
    """Map genes' spliced sequences to the test genes' with minimap2 (mappy).

    Built by :meth:`build`, which streams the FASTA once for the test genes;
    calling the screen on a gene gives a :class:`ParalogHit` or ``None``.
    """

    def __init__(self, aligner, targets: dict[str, Gene], identity: float) -> None:
        self._aligner = aligner
        self._targets = targets
        self.identity = identity

    @classmethod
    def build(
        cls,
        fasta: str | os.PathLike,
        genes: Sequence[Gene],
        splits: Sequence[str],
        identity: float,
        workdir: Path,
    ) -> ParalogScreen | None:
        """Index the test genes' spliced sequences; ``None`` when there are no test genes."""
        mappy = require_mappy()
        tests = [i for i, split in enumerate(splits) if split == "test"]
        if not tests:
            return None
        by_contig: dict[str, list[int]] = {}
        for index in tests:
            by_contig.setdefault(genes[index].chrom, []).append(index)
        targets: dict[str, Gene] = {}
        index_fasta = temporary_beside(workdir / "paralog-index.fa")
        try:
            with open(index_fasta, "w") as handle:
                for contig, sequence in stream_fasta(fasta, wanted=by_contig):
                    for index in by_contig.pop(contig, ()):
                        gene = genes[index]
                        if gene.end > len(sequence):
                            continue
                        for number, transcript in enumerate(gene.transcripts):
                            name = f"g{index}t{number}"
                            targets[name] = gene
                            handle.write(f">{name}\n{spliced_sequence(transcript, sequence)}\n")
                    del sequence  # one contig in memory at a time
            if not targets:
                return None
            aligner = mappy.Aligner(index_fasta)
        finally:
            discard(index_fasta)
        if not aligner:
            raise InputError("mappy could not index the test genes' sequences")
        return cls(aligner, targets, identity)

    def __call__(self, split: str, gene: Gene, sequence: bytes | bytearray) -> ParalogHit | None:
        for transcript in gene.transcripts:
            query = spliced_sequence(transcript, sequence)
            if not query:
                continue
            for hit in self._aligner.map(query):
                identity = hit.mlen / hit.blen if hit.blen else 0.0
                coverage = (hit.q_en - hit.q_st) / len(query)
                if identity >= self.identity and coverage >= MIN_PARALOG_COVERAGE:
                    return ParalogHit(split, gene, self._targets[hit.ctg], identity, coverage)
        return None


# ----------------------------------------------------------------------------- writing


@dataclass
class SplitStats:
    """What one split file holds."""

    chromosomes: list[str] = field(default_factory=list)
    genes: int = 0
    transcripts: int = 0
    acceptors: int = 0
    donors: int = 0
    windows: int = 0

    def add(self, windows: GeneWindows) -> None:
        if windows.chrom not in self.chromosomes:
            self.chromosomes.append(windows.chrom)
        self.genes += 1
        self.transcripts += windows.transcripts
        self.acceptors += windows.acceptors
        self.donors += windows.donors
        self.windows += len(windows.starts)


SUMMARY_COLUMNS = (
    "split", "chromosomes", "genes", "transcripts",
    "acceptor_sites", "donor_sites", "windows", "chromosome_names",
)  # fmt: skip


@dataclass
class Summary:
    """Counts of a ``create-data`` run.

    Attributes
    ----------
    splits
        Per split (``train``, ``validation``, ``test``) what was written.
    skipped
        Skipped or notable items by reason (transcripts, introns, genes).
    output_dir
        Where the files are.
    contigs
        The FASTA's contig order, in which the total row lists chromosomes.
    """

    splits: dict[str, SplitStats]
    skipped: dict[str, int]
    output_dir: Path | None = None
    contigs: list[str] = field(default_factory=list)  # FASTA order, for the total row

    @property
    def windows(self) -> int:
        return sum(stats.windows for stats in self.splits.values())

    def rows(self) -> list[list[str]]:
        """One row per split, then ``total``, in :data:`SUMMARY_COLUMNS` order."""
        rows = []
        total = SplitStats()
        for split in SPLITS:
            stats = self.splits[split]
            rows.append([split] + _numbers(stats) + [",".join(stats.chromosomes)])
            total.chromosomes += [c for c in stats.chromosomes if c not in total.chromosomes]
            for name in ("genes", "transcripts", "acceptors", "donors", "windows"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        rank = {name: index for index, name in enumerate(self.contigs)}
        total.chromosomes.sort(key=lambda name: rank.get(name, len(rank)))
        rows.append(["total"] + _numbers(total) + [",".join(total.chromosomes)])
        return rows

    def tsv(self) -> str:
        """``summary.tsv``: the split table, a blank line, then ``skipped<TAB>count`` rows."""
        lines = ["\t".join(SUMMARY_COLUMNS)] + ["\t".join(row) for row in self.rows()]
        lines += ["", "skipped\tcount"]
        lines += [f"{reason}\t{count}" for reason, count in self.skipped.items()]
        return "\n".join(lines) + "\n"

    def table(self) -> str:
        """The same, aligned for a terminal."""
        rows = [list(SUMMARY_COLUMNS)] + self.rows()
        for row in rows[1:]:
            if len(row[-1]) > 40:
                row[-1] = row[-1][:37] + "..."
        widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_COLUMNS) - 1)]
        lines = []
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:])]
            lines.append("  ".join(cells + [row[-1]]))
        lines += [f"skipped: {reason}: {count}" for reason, count in self.skipped.items()]
        return "\n".join(lines)


def _numbers(stats: SplitStats) -> list[str]:
    values = (len(stats.chromosomes), stats.genes, stats.transcripts, stats.acceptors,
              stats.donors, stats.windows)  # fmt: skip
    return [str(value) for value in values]


class SplitWriter:
    """One split's HDF5 file, appended to gene by gene (layout of ``trainers/layout.py``)."""

    def __init__(self, path: str | os.PathLike, split: str, attributes: dict) -> None:
        import h5py

        self.path = path
        self.rows = 0
        self._file = h5py.File(path, "w")
        attrs = self._file.attrs
        attrs["format"], attrs["version"], attrs["split"] = FORMAT, VERSION, split
        attrs["context"], attrs["positions"] = CONTEXT, POSITIONS
        attrs["classes"] = list(CLASSES)
        for key, value in attributes.items():
            attrs[key] = value
        packed = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
        self._x = self._file.create_dataset(
            "x", (0, WIDTH, 4), maxshape=(None, WIDTH, 4), dtype="i1",
            chunks=(1, WIDTH, 4), **packed,
        )  # fmt: skip
        self._y = self._file.create_dataset(
            "y", (0, POSITIONS), maxshape=(None, POSITIONS), dtype="i1",
            chunks=(1, POSITIONS), **packed,
        )  # fmt: skip
        text = h5py.string_dtype("utf-8")
        self._columns = {
            name: self._file.create_dataset(
                name, (0,), maxshape=(None,), dtype=dtype, chunks=(4096,), **packed
            )
            for name, dtype in (("chrom", text), ("strand", text), ("gene", text), ("start", "i8"))
        }

    def append(self, windows: GeneWindows) -> None:
        """Add a gene's windows at the end."""
        first, count = self.rows, len(windows.starts)
        last = first + count
        for dataset in (self._x, self._y, *self._columns.values()):
            dataset.resize(last, axis=0)
        self._x[first:last] = windows.x
        self._y[first:last] = windows.y
        self._columns["chrom"][first:last] = [windows.chrom] * count
        self._columns["strand"][first:last] = [windows.strand] * count
        self._columns["gene"][first:last] = [windows.gene] * count
        self._columns["start"][first:last] = np.asarray(windows.starts, dtype=np.int64)
        self.rows = last

    def close(self) -> None:
        if self._file:
            self._file.attrs["windows"] = self.rows
            self._file.close()


def create_data(
    fasta: str | os.PathLike,
    annotation: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    transcripts: str = "canonical",
    biotype: str | None = "protein_coding",
    canonical_introns: bool = False,
    flank_sequence: str = "n",
    split: str | None = None,
    test_chroms: Iterable[str] = (),
    val_chroms: Iterable[str] = (),
    split_by: str = "chromosome",
    test_fraction: float = 0.1,
    val_fraction: float = 0.1,
    seed: int = 42,
    remove_paralogs: bool = False,
    paralog_identity: float = 0.8,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write ``train.h5``, ``validation.h5``, ``test.h5`` and ``summary.tsv`` to ``output_dir``.

    Parameters
    ----------
    fasta, annotation
        Genome FASTA (plain, gzip or bgzip) and GTF/GFF3 (plain or gzip).
    output_dir
        Created if missing.
    transcripts, biotype, canonical_introns, flank_sequence
        As for :func:`load_genes` and :func:`gene_windows`.
    split, test_chroms, val_chroms, split_by, test_fraction, val_fraction, seed
        As for :meth:`SplitOptions.resolve`.
    remove_paralogs
        Drop train/validation genes whose spliced sequence maps to a test
        gene's with identity >= ``paralog_identity`` over >= 50% of the
        query (needs mappy); they are listed in ``paralogs_removed.tsv``.
    force
        Overwrite existing output files.
    progress
        Called with 1 after each gene.

    Returns
    -------
    Summary

    Raises
    ------
    InputError
        If an input is unusable, nothing usable remains, or the outputs
        exist and ``force`` is false.  Nothing is left at the output paths
        by a failed or interrupted run (files are written beside them and
        renamed into place at the end).
    ValueError
        If options contradict each other.
    """
    options = SplitOptions.resolve(
        split, test_chroms=test_chroms, val_chroms=val_chroms, by=split_by,
        test_fraction=test_fraction, val_fraction=val_fraction, seed=seed,
    )  # fmt: skip
    if flank_sequence not in FLANK_SEQUENCE_CHOICES:
        raise ValueError(f"flank_sequence must be one of {FLANK_SEQUENCE_CHOICES}")
    if remove_paralogs:
        require_mappy()
    out = Path(output_dir)
    targets = _output_paths(out, remove_paralogs, force)
    counts: Counter = Counter()
    genes = load_genes(
        annotation, fasta_contigs(fasta), transcripts=transcripts, biotype=biotype, counts=counts
    )
    splits = assign_splits(genes, options)
    for name in SPLITS:
        if name not in splits:
            log.warning("the %s split has no genes; %s will hold 0 windows",
                        name, SPLIT_FILES[name])  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or error
        raise InputError(f"{out}: cannot create the output directory: {reason}") from None
    screen = None
    if remove_paralogs:
        screen = ParalogScreen.build(fasta, genes, splits, paralog_identity, out)
        if screen is None:
            log.warning("--remove-paralogs: there are no test genes to compare with")
    provenance = _provenance(
        fasta, annotation, transcripts, biotype, canonical_introns,
        flank_sequence, options, remove_paralogs, paralog_identity,
    )  # fmt: skip
    summary = _write(
        genes, splits, fasta, targets, provenance, counts, screen, progress,
        canonical_introns=canonical_introns, flank_sequence=flank_sequence,
    )  # fmt: skip
    summary.output_dir = out
    return summary


def _output_paths(out: Path, remove_paralogs: bool, force: bool) -> dict[str, Path]:
    """Output files by key (split names, ``summary``, ``paralogs``); refuse to overwrite.

    An existing ``paralogs_removed.tsv`` counts as output even without
    ``remove_paralogs``: with ``force`` the run removes it, so that it never
    describes other data.
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    targets = {split: out / name for split, name in SPLIT_FILES.items()}
    targets["summary"] = out / SUMMARY_FILE
    if remove_paralogs:
        targets["paralogs"] = out / PARALOG_FILE
    existing = [path.name for path in [*targets.values(), out / PARALOG_FILE] if path.exists()]
    existing = list(dict.fromkeys(existing))
    if existing and not force:
        raise InputError(f"{out}: {', '.join(existing)} already exist; use --force to overwrite")
    return targets


def _provenance(fasta, annotation, transcripts, biotype, canonical_introns, flank_sequence,
                options: SplitOptions, remove_paralogs, paralog_identity) -> dict:  # fmt: skip
    from spliceannot import __version__

    return {
        "fasta": os.path.abspath(fasta),
        "annotation": os.path.abspath(annotation),
        "transcripts": transcripts,
        "biotype": biotype if biotype not in (None, "all") else "all",
        "canonical_introns": bool(canonical_introns),
        "flank_sequence": flank_sequence,
        "split_method": options.method,
        "split_by": options.by,
        "test_chroms": ",".join(options.test_chroms),
        "val_chroms": ",".join(options.val_chroms),
        "test_fraction": options.test_fraction,
        "val_fraction": options.val_fraction,
        "seed": options.seed,
        "remove_paralogs": bool(remove_paralogs),
        "paralog_identity": paralog_identity,
        "spliceannot_version": __version__,
    }


def _write(
    genes: list[Gene],
    splits: list[str],
    fasta,
    targets: dict[str, Path],
    provenance: dict,
    counts: Counter,
    screen: ParalogScreen | None,
    progress: Callable[[int], None] | None,
    *,
    canonical_introns: bool,
    flank_sequence: str,
) -> Summary:
    """Stream the windows into temporary files and publish them all at the end."""
    temporaries: dict[str, str] = {}
    writers: dict[str, SplitWriter] = {}
    stats = {split: SplitStats() for split in SPLITS}
    removed: list[ParalogHit] = []

    def keep(index: int, sequence: bytearray) -> bool:
        if progress is not None:
            progress(1)
        if screen is None or splits[index] == "test":
            return True
        hit = screen(splits[index], genes[index], sequence)
        if hit is not None:
            removed.append(hit)
        return hit is None

    try:
        for key, path in targets.items():
            temporaries[key] = temporary_beside(path)
        for split in SPLITS:
            writers[split] = SplitWriter(temporaries[split], split, provenance)
        produced = _produce(genes, fasta, canonical_introns=canonical_introns,
                            flank_sequence=flank_sequence, counts=counts, keep=keep)  # fmt: skip
        for index, windows in produced:
            writers[splits[index]].append(windows)
            stats[splits[index]].add(windows)
        if removed:
            counts[NOTE_PARALOGS] += len(removed)
        contigs = list(dict.fromkeys(gene.chrom for gene in genes))
        summary = Summary(stats, dict(counts), contigs=contigs)
        if summary.windows == 0:
            reasons = "; ".join(f"{reason}: {count}" for reason, count in counts.items())
            raise InputError(f"{fasta}: no gene could be cut into windows ({reasons})")
        for writer in writers.values():
            writer.close()
        Path(temporaries["summary"]).write_text(summary.tsv())
        if "paralogs" in temporaries:
            lines = ["\t".join(PARALOG_COLUMNS)] + [hit.line() for hit in removed]
            Path(temporaries["paralogs"]).write_text("\n".join(lines) + "\n")
        for key, temporary in temporaries.items():
            publish(temporary, targets[key])
    except OSError as error:
        _abandon(writers, temporaries)
        reason = error.strerror or error
        raise InputError(f"{targets['summary'].parent}: cannot write: {reason}") from None
    except BaseException:
        _abandon(writers, temporaries)
        raise
    stale = targets["summary"].with_name(PARALOG_FILE)
    if "paralogs" not in targets and stale.exists():
        stale.unlink()  # from an earlier run with --remove-paralogs; overwritten by --force
    return summary


def _abandon(writers: dict[str, SplitWriter], temporaries: dict[str, str]) -> None:
    for writer in writers.values():
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - already failing; the file is discarded anyway
            pass
    for temporary in temporaries.values():
        discard(temporary)
