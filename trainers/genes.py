"""Genes for training data: transcripts of a GTF/GFF3 on the FASTA's contigs, grouped into gene regions.

The same reader and canonical-transcript rules as ``annotate``; ``predict -A``
with a GTF/GFF3 predicts inside these genes.
"""

from __future__ import annotations

import logging
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from spliceannot.errors import InputError
from spliceannot.readers.annotation import Transcript
from spliceannot.readers.contigs import ContigMatcher
from spliceannot.readers.fasta_stream import open_binary
from spliceannot.readers.gtf import TRANSCRIPT_CHOICES, read_gene_models
from spliceannot.trainers.layout import POSITIONS

log = logging.getLogger(__name__)

SKIP_NOT_IN_FASTA = "transcripts on seqids not in the FASTA"

SKIP_PAST_END = "transcripts past the end of their contig"

NOTE_SINGLE_EXON = "single-exon transcripts (kept, no sites)"

NOTE_NO_INTRON = "adjacent exons that touch or overlap (no intron, no sites)"

_BIOTYPE_KEYS = ("gene_type", "gene_biotype", "transcript_type", "transcript_biotype", "biotype")

_BIOTYPE_PATTERN = re.compile(
    rb'(?:^|[\t; ])(?:gene_type|gene_biotype|transcript_type|transcript_biotype|biotype)'
    rb'(?: +"([^"]*)"|=([^;\t\r\n]*))'
)


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
