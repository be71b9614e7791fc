"""A small synthetic genome with planted multi-exon genes, for fast tests.

The genes are easy to learn: exons are GC-rich and introns AT-rich, every
intron starts ``GTAAGT`` after an exon ending ``CAG`` and ends with a branch
point ``TACTAAC``, 4 nt, a 15-nt polypyrimidine tract and ``CAG`` before an
exon starting with ``G``.
A SpliceAI model with 40 nt of context on each side sees all of that, so a
tiny network learns the sites in about a minute of CPU.

Everything is drawn from one seeded generator, in the same order whatever
``minus_fraction`` is, so two genomes with the same seed have the same genes
(the same sequence in transcript orientation, at the same coordinates) and
differ only in which strand each gene lies on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DONOR_MOTIF = "GTAAGT"  # first bases of every intron
EXON_END = "CAG"  # last bases of every exon that precedes an intron
ACCEPTOR_END = "CAG"  # last bases of every intron, after the pyrimidine tract
PYRIMIDINE_TRACT = 15
BRANCH_POINT = "TACTAAC"  # 4 nt before the pyrimidine tract
BRANCH_SPACER = 4
EXONS = (3, 6)  # exons per gene, inclusive
EXON_LENGTH = (80, 250)
INTRON_LENGTH = (150, 600)
SPACER_LENGTH = (800, 1200)  # intergenic sequence between genes and at the contig ends
SOFT_MASKED = 100  # a lowercase stretch in every spacer, as repeat-masked genomes have
LINE_WIDTH = 60

EXON_GC = 0.60
INTRON_GC = 0.35
INTERGENIC_GC = 0.45

_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
_COMPLEMENT = str.maketrans("ACGTacgt", "TGCAtgca")


def write_synthetic_genome(
    directory,
    *,
    chromosomes=("chr1", "chr2", "chr3"),
    genes_per_chromosome=6,
    seed=0,
    gff3=False,
    minus_fraction=0.5,
) -> tuple[Path, Path]:
    """Write genome.fa and genes.gtf (or genes.gff3) with planted multi-exon genes.

    Returns their paths.

    Parameters
    ----------
    directory
        Created if missing.
    chromosomes
        Contig names, in FASTA order.
    genes_per_chromosome
        Genes planted on each contig, one after the other, ~1 kb apart.
    seed
        Everything is deterministic given the seed.
    gff3
        Write ``genes.gff3`` (gene/mRNA/exon with ID, Parent, Name and
        biotype) instead of ``genes.gtf`` (gene/transcript/exon with
        gene_id, transcript_id, gene_name and gene_biotype).
    minus_fraction
        Expected fraction of genes on the minus strand; such genes are
        written reverse-complemented in the FASTA.

    Returns
    -------
    tuple of Path
        The FASTA and the annotation.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    contigs: list[tuple[str, str]] = []
    genes: list[dict] = []
    for number, chrom in enumerate(chromosomes, start=1):
        parts = [_spacer(rng)]
        position = len(parts[0])
        for k in range(1, genes_per_chromosome + 1):
            sequence, exons = _planted_gene(rng)
            strand = "-" if rng.random() < minus_fraction else "+"
            if strand == "-":
                sequence = _reverse_complement(sequence)
                exons = sorted((len(sequence) - end, len(sequence) - start) for start, end in exons)
            genes.append(
                {
                    "chrom": chrom,
                    "strand": strand,
                    "gene_id": f"gene-{chrom}-{k}",
                    "transcript_id": f"tx-{chrom}-{k}",
                    "name": f"SYN{number}_{k}",
                    "exons": [(position + start, position + end) for start, end in exons],
                }
            )
            spacer = _spacer(rng)
            parts += [sequence, spacer]
            position += len(sequence) + len(spacer)
        contigs.append((chrom, "".join(parts)))
    fasta = directory / "genome.fa"
    _write_fasta(fasta, contigs)
    annotation = directory / ("genes.gff3" if gff3 else "genes.gtf")
    annotation.write_text(_gff3(genes) if gff3 else _gtf(genes))
    return fasta, annotation


def _random(rng: np.random.Generator, length: int, gc: float) -> str:
    """Random DNA with GC content ``gc``."""
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return _BASES[rng.choice(4, size=length, p=p)].tobytes().decode()


def _spacer(rng: np.random.Generator) -> str:
    """Intergenic sequence with one soft-masked (lowercase) stretch."""
    length = int(rng.integers(SPACER_LENGTH[0], SPACER_LENGTH[1] + 1))
    sequence = _random(rng, length, INTERGENIC_GC)
    at = int(rng.integers(0, len(sequence) - SOFT_MASKED))
    return sequence[:at] + sequence[at : at + SOFT_MASKED].lower() + sequence[at + SOFT_MASKED :]


def _planted_gene(rng: np.random.Generator) -> tuple[str, list[tuple[int, int]]]:
    """A gene in transcript orientation and its exons (0-based half-open, gene-relative)."""
    count = int(rng.integers(EXONS[0], EXONS[1] + 1))
    pieces: list[str] = []
    exons: list[tuple[int, int]] = []
    position = 0
    for index in range(count):
        exon = _random(rng, int(rng.integers(EXON_LENGTH[0], EXON_LENGTH[1] + 1)), EXON_GC)
        if index > 0:
            exon = "G" + exon[1:]  # acceptor: CAG|G
        if index < count - 1:
            exon = exon[: -len(EXON_END)] + EXON_END  # donor: CAG|GTAAGT
        pieces.append(exon)
        exons.append((position, position + len(exon)))
        position += len(exon)
        if index < count - 1:
            length = int(rng.integers(INTRON_LENGTH[0], INTRON_LENGTH[1] + 1))
            fixed = len(DONOR_MOTIF) + len(BRANCH_POINT) + BRANCH_SPACER + PYRIMIDINE_TRACT
            core = _random(rng, length - fixed - len(ACCEPTOR_END), INTRON_GC)
            spacer = _random(rng, BRANCH_SPACER, INTRON_GC)
            tract = "".join(rng.choice(["C", "T"], size=PYRIMIDINE_TRACT))
            intron = DONOR_MOTIF + core + BRANCH_POINT + spacer + tract + ACCEPTOR_END
            pieces.append(intron)
            position += len(intron)
    return "".join(pieces), exons


def _reverse_complement(sequence: str) -> str:
    return sequence.translate(_COMPLEMENT)[::-1]


def _write_fasta(path: Path, contigs: list[tuple[str, str]]) -> None:
    with open(path, "w") as handle:
        for name, sequence in contigs:
            handle.write(f">{name} synthetic\n")
            for start in range(0, len(sequence), LINE_WIDTH):
                handle.write(sequence[start : start + LINE_WIDTH] + "\n")


def _in_transcript_order(gene: dict) -> list[tuple[int, int]]:
    return sorted(gene["exons"], reverse=gene["strand"] == "-")


def _gtf(genes: list[dict]) -> str:
    lines = ["#!genome-build synthetic"]
    for gene in genes:
        start, end = gene["exons"][0][0], gene["exons"][-1][1]
        head = f"{gene['chrom']}\tsynthetic\t{{}}\t{{}}\t{{}}\t.\t{gene['strand']}\t.\t"
        gene_attributes = (
            f'gene_id "{gene["gene_id"]}"; gene_name "{gene["name"]}"; '
            f'gene_biotype "protein_coding";'
        )
        transcript_attributes = (
            f'gene_id "{gene["gene_id"]}"; transcript_id "{gene["transcript_id"]}"; '
            f'gene_name "{gene["name"]}"; gene_biotype "protein_coding"; '
            f'transcript_biotype "protein_coding";'
        )
        lines.append(head.format("gene", start + 1, end) + gene_attributes)
        lines.append(head.format("transcript", start + 1, end) + transcript_attributes)
        for number, (exon_start, exon_end) in enumerate(_in_transcript_order(gene), start=1):
            lines.append(
                head.format("exon", exon_start + 1, exon_end)
                + transcript_attributes
                + f' exon_number "{number}";'
            )
    return "\n".join(lines) + "\n"


def _gff3(genes: list[dict]) -> str:
    lines = ["##gff-version 3"]
    for gene in genes:
        start, end = gene["exons"][0][0], gene["exons"][-1][1]
        head = f"{gene['chrom']}\tsynthetic\t{{}}\t{{}}\t{{}}\t.\t{gene['strand']}\t.\t"
        gene_id, transcript_id = gene["gene_id"], gene["transcript_id"]
        lines.append(
            head.format("gene", start + 1, end)
            + f"ID={gene_id};Name={gene['name']};biotype=protein_coding"
        )
        lines.append(
            head.format("mRNA", start + 1, end)
            + f"ID={transcript_id};Parent={gene_id};Name={transcript_id};biotype=protein_coding"
        )
        for number, (exon_start, exon_end) in enumerate(_in_transcript_order(gene), start=1):
            lines.append(
                head.format("exon", exon_start + 1, exon_end)
                + f"ID={transcript_id}.exon{number};Parent={transcript_id}"
            )
    return "\n".join(lines) + "\n"
