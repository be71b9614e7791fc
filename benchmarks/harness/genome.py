"""The example genome (real GRCh38 chr16 sequence) and SpliceAI's gene table."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

FASTA_LINE_WIDTH = 60


@dataclass(frozen=True)
class Genome:
    """One contig of upper-cased sequence.

    Attributes
    ----------
    contig : str
        Contig name as in the FASTA (``chr16``).
    sequence : str
        Upper-cased bases; ``sequence[pos - 1]`` is the base at 1-based ``pos``.
    first_real_pos : int
        1-based position of the first base that is not ``N``.
    """

    contig: str
    sequence: str
    first_real_pos: int

    @property
    def length(self) -> int:
        return len(self.sequence)

    def ref(self, pos_1based: int, length: int = 1) -> str:
        """The reference bases starting at 1-based ``pos_1based``."""
        return self.sequence[pos_1based - 1 : pos_1based - 1 + length]


@dataclass(frozen=True)
class Gene:
    """One row of a SpliceAI-style gene table.

    Attributes
    ----------
    name, strand : str
    tx_start_0based : int
        ``TX_START`` as in the table: 0-based, so the first base is ``tx_start_0based + 1``.
    tx_end_1based : int
        ``TX_END`` as in the table: 1-based inclusive last base.
    exon_boundaries_1based : tuple of int
        Internal exon boundaries (1-based first base of each exon but the
        first, last base of each exon but the last): where splice sites are.
    """

    name: str
    strand: str
    tx_start_0based: int
    tx_end_1based: int
    exon_boundaries_1based: tuple[int, ...]

    @property
    def first_pos(self) -> int:
        return self.tx_start_0based + 1

    def contains(self, pos_1based: int) -> bool:
        return self.tx_start_0based < pos_1based <= self.tx_end_1based


def read_genome(fasta_gz: Path) -> Genome:
    """Read a one-contig FASTA (plain, gzip or bgzip) into a :class:`Genome`."""
    opener = gzip.open if fasta_gz.suffix == ".gz" else open
    with opener(fasta_gz, "rt") as handle:
        header = handle.readline()
        if not header.startswith(">"):
            raise ValueError(f"{fasta_gz}: not a FASTA file")
        contig = header[1:].split()[0]
        sequence = "".join(line.strip() for line in handle if not line.startswith(">")).upper()
    first_real = next((i for i, base in enumerate(sequence) if base != "N"), len(sequence)) + 1
    return Genome(contig=contig, sequence=sequence, first_real_pos=first_real)


def write_plain_fasta(fasta_gz: Path, out: Path) -> Path:
    """Decompress ``fasta_gz`` to ``out`` (as is, soft-masking kept) and index it.

    SpliceAI and OpenSpliceAI read the FASTA with pyfaidx, which wants it
    uncompressed. The ``.fai`` is written here so that no tool builds it
    while another reads it. Does nothing when ``out`` is newer than the source.
    """
    fai = Path(str(out) + ".fai")
    if out.exists() and fai.exists() and out.stat().st_mtime >= fasta_gz.stat().st_mtime:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(fasta_gz, "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    fai_lines = _fai_lines(tmp)
    os.replace(tmp, out)
    fai.write_text("".join(fai_lines))
    return out


def _fai_lines(fasta: Path) -> list[str]:
    """samtools-style ``.fai`` lines of a FASTA whose contigs have equal-length lines."""
    lines: list[str] = []
    name, length, offset, line_bases, line_bytes = None, 0, 0, 0, 0
    position = 0
    with open(fasta, "rb") as handle:
        for raw in handle:
            if raw.startswith(b">"):
                if name is not None:
                    lines.append(f"{name}\t{length}\t{offset}\t{line_bases}\t{line_bytes}\n")
                name = raw[1:].split()[0].decode()
                length, line_bases, line_bytes = 0, 0, 0
                offset = position + len(raw)
            else:
                bases = len(raw.rstrip(b"\r\n"))
                if line_bases == 0:
                    line_bases, line_bytes = bases, len(raw)
                length += bases
            position += len(raw)
    if name is not None:
        lines.append(f"{name}\t{length}\t{offset}\t{line_bases}\t{line_bytes}\n")
    return lines


def _bare(contig: str) -> str:
    return contig[3:] if contig.lower().startswith("chr") else contig


def read_gene_table(table: Path, contig: str) -> list[Gene]:
    """Genes of a SpliceAI-style table (``#NAME CHROM STRAND TX_START ...``) on ``contig``.

    ``chr16`` in the FASTA matches ``16`` in the table. Sorted by start.
    """
    genes = []
    with open(table) as handle:
        columns = handle.readline().rstrip("\n").split("\t")
        index = {name: i for i, name in enumerate(columns)}
        for line in handle:
            row = line.rstrip("\n").split("\t")
            if _bare(row[index["CHROM"]]) != _bare(contig):
                continue
            starts = [int(x) + 1 for x in row[index["EXON_START"]].split(",") if x]
            ends = [int(x) for x in row[index["EXON_END"]].split(",") if x]
            boundaries = tuple(sorted(starts[1:] + ends[:-1]))
            genes.append(
                Gene(
                    name=row[index["#NAME"]],
                    strand=row[index["STRAND"]],
                    tx_start_0based=int(row[index["TX_START"]]),
                    tx_end_1based=int(row[index["TX_END"]]),
                    exon_boundaries_1based=boundaries,
                )
            )
    return sorted(genes, key=lambda gene: (gene.tx_start_0based, gene.tx_end_1based))


def scorable_genes(genes: list[Gene], genome: Genome, half_window: int) -> list[Gene]:
    """Genes lying wholly in real sequence and at least ``half_window`` from the contig end."""
    return [
        gene
        for gene in genes
        if gene.first_pos >= genome.first_real_pos
        and gene.tx_end_1based <= genome.length - half_window
    ]


def intergenic_gap(
    genes: list[Gene], genome: Genome, half_window: int, margin: int = 100
) -> tuple[int, int]:
    """The longest stretch of real sequence that no gene of ``genes`` covers (1-based, inclusive).

    ``genes`` should be all genes of the table on the contig, so that a
    record placed in the gap overlaps none of them.
    """
    covered = sorted((gene.first_pos, gene.tx_end_1based) for gene in genes)
    best = (0, -1)
    cursor = genome.first_real_pos + half_window
    last = genome.length - half_window
    for start, end in covered + [(last + 1, last + 1)]:
        gap = (cursor + margin, min(start, last + 1) - 1 - margin)
        if gap[1] - gap[0] > best[1] - best[0]:
            best = gap
        cursor = max(cursor, end + 1)
    if best[1] < best[0]:
        raise ValueError(f"no intergenic real sequence on {genome.contig}")
    return best
