"""What ``spliceannot predict`` predicts: ``--regions``, the genes of ``-A``, runs of N left out."""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spliceannot.errors import InputError
from spliceannot.readers.contigs import ContigMatcher
from spliceannot.trainers.intervals import (
    DEFAULT_SKIP_N,
    Interval,
    intersect_intervals,
    merge_intervals,
    n_runs,
    subtract_intervals,
)
from spliceannot.writers.tracks import STRANDS

log = logging.getLogger(__name__)


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
    half-open), as ``trainers.genes.Gene`` has.
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
        GTF/GFF3 gives the genes of :func:`spliceannot.trainers.genes.load_genes`.
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
            from spliceannot.trainers.genes import load_genes

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
