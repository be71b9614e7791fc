"""Transcript rows: the value types that annotation tables, GTF/GFF3 readers and the gene-table cache share.

A row is one line of a SpliceAI-style table (see
:mod:`spliceannot.readers.annotation`); :class:`GeneModels` is what a GTF/GFF3
gives (:mod:`spliceannot.readers.gtf`), kept as a derived table by
:mod:`spliceannot.readers.gene_table_cache`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transcript:
    """One annotation row.

    All coordinates are 0-based half-open: the transcript covers
    ``[tx_start, tx_end)`` and exon ``k`` covers
    ``[exon_starts[k], exon_ends[k])``.  ``name`` is what SpliceAI prints as
    SYMBOL.
    """

    name: str
    chrom: str
    strand: str
    tx_start: int
    tx_end: int
    exon_starts: tuple[int, ...]
    exon_ends: tuple[int, ...]

    def contains(self, pos: int) -> bool:
        """Whether 1-based position ``pos`` lies in the transcript."""
        return self.tx_start < pos <= self.tx_end

    def boundaries(self) -> np.ndarray:
        """Sorted distinct exon boundaries as 1-based positions.

        Exon starts count as their first base (``exon_start + 1``), exon ends
        as their last base, as SpliceAI measures distances to them.
        """
        values = [s + 1 for s in self.exon_starts] + list(self.exon_ends)
        return np.unique(np.asarray(values, dtype=np.int64))

    def table_line(self) -> str:
        """This row as a line of a SpliceAI-style table (no newline)."""
        starts = "".join(f"{s}," for s in self.exon_starts)
        ends = "".join(f"{e}," for e in self.exon_ends)
        return "\t".join(
            [self.name, self.chrom, self.strand, str(self.tx_start), str(self.tx_end), starts, ends]
        )


@dataclass(frozen=True)
class GeneModels:
    """Transcript rows read from a GTF/GFF3 file.

    Attributes
    ----------
    transcripts
        Selected rows, sorted by chromosome (order of first appearance in
        the file), ``tx_start`` and name.
    genes
        Genes with at least one usable transcript of the requested biotype.
    candidates
        Usable transcripts of the requested biotype before canonical
        selection (equal to ``len(transcripts)`` for ``transcripts="all"``).
    skipped
        Count of skipped features by reason (only reasons that occurred).
    """

    transcripts: list[Transcript]
    genes: int
    candidates: int
    skipped: dict[str, int]
