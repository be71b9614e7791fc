"""Removing training genes that are paralogs of test genes (minimap2 through mappy)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spliceannot.atomic import discard, temporary_beside
from spliceannot.errors import InputError
from spliceannot.readers.annotation import Transcript
from spliceannot.readers.fasta_stream import stream_fasta
from spliceannot.trainers.gene_windows import reverse_complement_bases
from spliceannot.trainers.genes import Gene

MIN_PARALOG_COVERAGE = 0.5  # fraction of the query a paralog hit must cover

PARALOG_COLUMNS = (
    "split", "gene", "chrom", "strand", "start", "end",
    "test_gene", "test_chrom", "identity", "query_coverage",
)  # fmt: skip


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
        joined = reverse_complement_bases(joined)
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
