"""SNV workloads for the Pangolin speed benchmark, on the genes of Pangolin's chr16 database.

The genes are the ``gene`` rows of ``tests/data/pangolin/chr16_genes_full.gtf``
(the features of ``chr16_genes_full.db``: one per RefSeq transcript of
``examples/chr16_genes.gtf.gz``). Pangolin compares REF with the FASTA
case-sensitively and skips a soft-masked (lower-case) base, so every SNV sits
on an upper-case base: REF is that base, ALT another one (seeded).

- ``spaced-N``: half the records along the + strand genes, half along the -
  strand genes, one every ``N`` bases of that strand's gene sequence (the
  first upper-case base at or after each grid point; a grid point with none
  before the next one gets no record);
- ``isolated``: one SNV per gene row, taken in order of gene start, at least
  :data:`ISOLATED_GAP` bases after the previous record and, on each of its
  strands, more than one tile's reach (:data:`TILE_REACH`) after the previous
  record of that strand, so that every job is a tile of its own.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO
from .workloads import merge_intervals

PANGOLIN_DATA = REPO / "tests" / "data" / "pangolin"
GENES_GTF = PANGOLIN_DATA / "chr16_genes_full.gtf"
GENES_DB = PANGOLIN_DATA / "chr16_genes_full.db"
CONTEXT = 5000  # Pangolin's bases on each side of the scored span
ISOLATED_GAP = 15_000
#: ConeTracks joins a window to a tile when it starts within a flank of the tile's end:
#: records of one strand up to 10,000 + a 10,101-base window apart share a tile (at -d 50).
TILE_REACH = 20_101
BASES = "ACGT"


@dataclass(frozen=True)
class Gene:
    """A ``gene`` feature of the database (1-based inclusive ``start1``, ``end1``)."""

    name: str
    strand: str
    start1: int
    end1: int


@dataclass(frozen=True)
class Workload:
    """One VCF of SNVs and what it holds: ``records`` are ``(pos, ref, alt)``, 1-based, sorted."""

    name: str
    path: Path
    records: tuple[tuple[int, str, str], ...]
    description: str


def read_genes(gtf: Path = GENES_GTF) -> list[Gene]:
    """The ``gene`` rows of a GTF, sorted by start."""
    genes = []
    with open(gtf) as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) > 8 and fields[2] == "gene":
                name = fields[8].split('gene_id "')[1].split('"')[0]
                genes.append(Gene(name, fields[6], int(fields[3]), int(fields[4])))
    return sorted(genes, key=lambda g: (g.start1, g.end1))


def read_sequence(fasta_gz: Path) -> tuple[str, str]:
    """``(contig, sequence)`` of a one-contig (b)gzipped FASTA, soft-masking kept."""
    with gzip.open(fasta_gz, "rt") as handle:
        contig = handle.readline()[1:].split()[0]
        return contig, "".join(line.strip() for line in handle if not line.startswith(">"))


def strands_at(genes: list[Gene], pos: int) -> set[str]:
    """Strands of the genes Pangolin finds for ``pos`` (``start1 < pos <= end1``)."""
    return {g.strand for g in genes if g.start1 < pos <= g.end1}


class _Picker:
    def __init__(self, sequence: str, genes: list[Gene], distance: int) -> None:
        self.sequence = sequence
        self.genes = genes
        # Pangolin's window [pos - 5001 - d, pos + len(REF) + 4999 + d) inside the contig
        self.low = CONTEXT + distance + 1
        self.high = len(sequence) - CONTEXT - distance - 1

    def scorable(self, pos: int) -> bool:
        return self.low <= pos <= self.high and self.sequence[pos - 1] in BASES

    def first_scorable(self, start: int, stop: int) -> int | None:
        """The first position in ``[start, stop]`` on an upper-case base (the window inside the contig)."""
        return next((pos for pos in range(start, stop + 1) if self.scorable(pos)), None)

    def spaced(self, strand: str, spacing: int, count: int) -> list[int]:
        intervals = merge_intervals([(g.start1 + 1, g.end1) for g in self.genes if g.strand == strand])
        positions: list[int] = []
        offset = spacing // 2
        for start, end in intervals:
            grid = start + offset
            while grid <= end and len(positions) < count:
                pos = self.first_scorable(grid, min(end, grid + spacing - 1))
                if pos is not None:
                    positions.append(pos)
                grid += spacing
            offset = grid - end - 1
        return positions

    def isolated(self, count: int) -> list[int]:
        positions: list[int] = []
        previous = -ISOLATED_GAP
        last = {"+": -TILE_REACH - 1, "-": -TILE_REACH - 1}
        for gene in self.genes:
            if len(positions) >= count:
                break
            for pos in range(max(gene.start1 + 1, previous + ISOLATED_GAP), gene.end1 + 1):
                strands = strands_at(self.genes, pos)
                if self.scorable(pos) and all(pos - last[s] > TILE_REACH for s in strands):
                    positions.append(pos)
                    previous = pos
                    last.update({s: pos for s in strands})
                    break
        return positions


def _write_vcf(path: Path, contig: str, length: int, name: str, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "##fileformat=VCFv4.2",
        f"##source=spliceannot-benchmarks pangolin_speed workload={name}",
        f"##contig=<ID={contig},length={length}>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        *(f"{contig}\t{pos}\t{name}.{i}\t{ref}\t{alt}\t.\t.\t." for i, (pos, ref, alt) in enumerate(records, 1)),
    ]
    path.write_text("\n".join(lines) + "\n")


def build(
    fasta_gz: Path, spacings: list[int], count: int, seed: int, distance: int, directory: Path
) -> list[Workload]:
    """One workload per spacing (0: ``isolated``) of up to ``count`` SNVs, written to ``directory``."""
    contig, sequence = read_sequence(fasta_gz)
    genes = read_genes()
    picker = _Picker(sequence, genes, distance)
    workloads = []
    for spacing in spacings:
        if spacing:
            plus = picker.spaced("+", spacing, count - count // 2)
            positions = sorted(plus + picker.spaced("-", spacing, count // 2))
            name = f"spaced-{spacing}"
            description = (f"{len(plus)} SNVs along the + strand genes and {len(positions) - len(plus)} "
                           f"along the - strand genes, {spacing:,} bp apart")  # fmt: skip
        else:
            positions = picker.isolated(count)
            name = "isolated"
            description = (f"one SNV per gene, at least {ISOLATED_GAP:,} bp apart and more than "
                           f"{TILE_REACH:,} bp from the previous one of each strand: a tile per job")  # fmt: skip
        rng = random.Random(f"pangolin-speed:{seed}:{name}")
        records = tuple((pos, sequence[pos - 1], rng.choice([b for b in BASES if b != sequence[pos - 1]]))
                        for pos in positions)  # fmt: skip
        name = f"{name}-{len(records)}"
        path = directory / f"{name}.seed{seed}.vcf"
        _write_vcf(path, contig, len(sequence), name, records)
        workloads.append(Workload(name, path, records, description))
    return workloads
