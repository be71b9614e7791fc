"""A synthetic GTF with the size and structure of GENCODE's basic human annotation.

No real GENCODE file is needed: genes, transcripts and exons are drawn from a
seeded generator and written in GENCODE's layout (``gene``, then each
``transcript`` followed by its ``exon``, ``CDS``, ``UTR``, ``start_codon`` and
``stop_codon`` lines, with GENCODE's attributes, tags such as ``basic``,
``Ensembl_canonical`` and ``MANE_Select``, and its ``##`` header).  At the
default scale it has about 60,000 genes, 110,000 transcripts and 600,000
exons on chr1..chr22, chrX, chrY and chrM (GRCh38 lengths).

Standard library only; deterministic for a given seed.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

CHROMOSOMES = {
    "chr1": 248_956_422, "chr2": 242_193_529, "chr3": 198_295_559, "chr4": 190_214_555,
    "chr5": 181_538_259, "chr6": 170_805_979, "chr7": 159_345_973, "chr8": 145_138_636,
    "chr9": 138_394_717, "chr10": 133_797_422, "chr11": 135_086_622, "chr12": 133_275_309,
    "chr13": 114_364_328, "chr14": 107_043_718, "chr15": 101_991_189, "chr16": 90_338_345,
    "chr17": 83_257_441, "chr18": 80_373_285, "chr19": 58_617_616, "chr20": 64_444_167,
    "chr21": 46_709_983, "chr22": 50_818_468, "chrX": 156_040_895, "chrY": 57_227_415,
    "chrM": 16_569,
}  # fmt: skip

# (gene_type, share of genes, mean transcripts per gene, mean exons per transcript, span)
GENE_KINDS = (
    ("protein_coding", 0.33, 3.0, 7.4, 40_000),
    ("lncRNA", 0.31, 1.5, 3.0, 25_000),
    ("processed_pseudogene", 0.17, 1.0, 1.0, 1_500),
    ("unprocessed_pseudogene", 0.04, 1.0, 3.0, 8_000),
    ("misc_RNA", 0.04, 1.0, 1.0, 300),
    ("snRNA", 0.03, 1.0, 1.0, 150),
    ("miRNA", 0.03, 1.0, 1.0, 100),
    ("snoRNA", 0.02, 1.0, 1.0, 150),
    ("TEC", 0.03, 1.0, 1.2, 3_000),
)
GENES = 60_000
SOURCES = ("HAVANA", "ENSEMBL")


def write_gencode_like(path: str | Path, *, genes: int = GENES, seed: int = 1) -> dict[str, int]:
    """Write the GTF (gzip if ``path`` ends in ``.gz``); return its line counts by feature type."""
    rng = random.Random(seed)
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    counts: dict[str, int] = {}
    ids = {"gene": 0, "transcript": 0, "exon": 0, "protein": 0}

    def next_id(kind: str) -> int:
        ids[kind] += 1
        return ids[kind]

    total_length = sum(CHROMOSOMES.values())
    with opener(path, "wt", **({"compresslevel": 6} if path.suffix == ".gz" else {})) as out:
        out.write(
            "##description: synthetic annotation in the layout of GENCODE's basic gene annotation (CHR)\n"
            "##provider: spliceannot benchmarks/gencode_like.py\n"
            "##contact: none\n##format: gtf\n##date: 2024-01-01\n"
        )
        for chrom, length in CHROMOSOMES.items():
            count = max(1, round(genes * length / total_length))
            starts = sorted(rng.randrange(1, max(2, length - 200_000)) for _ in range(count))
            for start in starts:
                kind = rng.choices(GENE_KINDS, weights=[k[1] for k in GENE_KINDS])[0]
                lines = _gene(rng, chrom, start, kind, next_id)
                for feature, line in lines:
                    counts[feature] = counts.get(feature, 0) + 1
                    out.write(line)
    return counts


def _draw(rng: random.Random, mean: float) -> int:
    """A count >= 1 with the given mean (geometric above 1)."""
    if mean <= 1.0:
        return 1
    p = 1.0 / mean
    n = 1
    while rng.random() > p:
        n += 1
    return n


def _gene(
    rng: random.Random, chrom: str, start: int, kind: tuple, next_id
) -> list[tuple[str, str]]:
    gene_type, _, tx_mean, exon_mean, span_mean = kind
    strand = rng.choice("+-")
    gene_number = next_id("gene")
    gene_id = f"ENSG{gene_number:011d}.{rng.randint(1, 20)}"
    name = (
        f"{gene_type[:3].upper()}{gene_number}"
        if rng.random() < 0.9
        else f"Y_RNA{gene_number % 50}"
    )
    source = rng.choice(SOURCES)
    level = rng.choice((1, 2, 2, 3))
    hgnc = f"HGNC:{rng.randint(1, 60000)}"
    havana_gene = f"OTTHUMG{gene_number:011d}.{rng.randint(1, 5)}"
    gene_attrs = (
        f'gene_id "{gene_id}"; gene_type "{gene_type}"; gene_name "{name}"; level {level}; '
        f'hgnc_id "{hgnc}"; havana_gene "{havana_gene}";'
    )
    transcripts = []
    count = _draw(rng, tx_mean)
    canonical = rng.randrange(count)
    span = max(200, int(rng.expovariate(1 / span_mean)))
    for t in range(count):
        exons = _exons(rng, start, span, _draw(rng, exon_mean))
        transcripts.append((exons, t == canonical))
    gene_start = min(exons[0][0] for exons, _ in transcripts)
    gene_end = max(exons[-1][1] for exons, _ in transcripts)
    lines = [("gene", _line(chrom, source, "gene", gene_start, gene_end, strand, ".", gene_attrs))]
    for exons, is_canonical in transcripts:
        lines += _transcript(
            rng, chrom, source, strand, gene_attrs, gene_type, name, exons, is_canonical, next_id
        )
    return lines


def _exons(rng: random.Random, start: int, span: int, n: int) -> list[tuple[int, int]]:
    """``n`` sorted non-overlapping 1-based inclusive exons within ``[start, start + span)``."""
    if n == 1:
        length = rng.randint(80, max(81, min(span, 3000)))
        return [(start, start + length - 1)]
    cuts = sorted(rng.sample(range(start + 1, start + span + 40 * n), 2 * n - 1))
    bounds = [start, *cuts]
    exons = []
    for i in range(0, len(bounds) - 1, 2):
        first = bounds[i]
        last = min(bounds[i + 1] - 20, first + rng.randint(50, 400))
        exons.append((first, max(first + 30, last)))
    last_first = bounds[-1] + 25 if len(bounds) % 2 == 0 else exons[-1][1] + 200
    exons.append((last_first, last_first + rng.randint(100, 2000)))
    # keep them disjoint and ordered
    merged = [exons[0]]
    for first, last in exons[1:]:
        if first <= merged[-1][1] + 20:
            first = merged[-1][1] + 21 + rng.randint(50, 2000)
            last = first + (last - first if last > first else 100)
        merged.append((first, last))
    return merged


def _transcript(rng, chrom, source, strand, gene_attrs, gene_type, name, exons, canonical, next_id):
    number = next_id("transcript")
    transcript_id = f"ENST{number:011d}.{rng.randint(1, 12)}"
    tx_type = (
        gene_type
        if gene_type != "protein_coding" or rng.random() < 0.8
        else "nonsense_mediated_decay"
    )
    coding = tx_type == "protein_coding"
    tags = ['tag "basic";']
    if canonical:
        tags.append('tag "Ensembl_canonical";')
        if coding:
            tags += ['tag "MANE_Select";', 'tag "CCDS";']
    elif coding and rng.random() < 0.3:
        tags.append('tag "CCDS";')
    support = rng.choice(('"1"', '"2"', '"5"', '"NA"'))
    tx_attrs = (
        f'{gene_attrs.split(" level ")[0].rstrip(";")}; transcript_id "{transcript_id}"; '
        f'transcript_type "{tx_type}"; transcript_name "{name}-{200 + number % 100}"; '
    )
    tail = (
        f"transcript_support_level {support}; {' '.join(tags)} "
        f'havana_transcript "OTTHUMT{number:011d}.{rng.randint(1, 4)}";'
    )
    protein = f' protein_id "ENSP{next_id("protein"):011d}.1";' if coding else ""
    first, last = exons[0][0], exons[-1][1]
    lines = [
        (
            "transcript",
            _line(
                chrom,
                source,
                "transcript",
                first,
                last,
                strand,
                ".",
                f"{tx_attrs}level 2;{protein} {tail}",
            ),
        )
    ]
    order = exons if strand == "+" else exons[::-1]
    cds = _cds(exons) if coding else []
    for number_in_tx, (start, end) in enumerate(order, start=1):
        exon_id = f'exon_number {number_in_tx}; exon_id "ENSE{next_id("exon"):011d}.1"; level 2;'
        lines.append(
            (
                "exon",
                _line(
                    chrom,
                    source,
                    "exon",
                    start,
                    end,
                    strand,
                    ".",
                    f"{tx_attrs}{exon_id}{protein} {tail}",
                ),
            )
        )
        piece = next(((a, b) for a, b in cds if a >= start and b <= end), None)
        if piece is not None:
            attrs = f"{tx_attrs}{exon_id}{protein} {tail}"
            lines.append(
                ("CDS", _line(chrom, source, "CDS", piece[0], piece[1], strand, "0", attrs))
            )
            if piece[0] > start:
                lines.append(
                    ("UTR", _line(chrom, source, "UTR", start, piece[0] - 1, strand, ".", attrs))
                )
            if piece[1] < end:
                lines.append(
                    ("UTR", _line(chrom, source, "UTR", piece[1] + 1, end, strand, ".", attrs))
                )
        elif cds:
            lines.append(
                (
                    "UTR",
                    _line(
                        chrom,
                        source,
                        "UTR",
                        start,
                        end,
                        strand,
                        ".",
                        f"{tx_attrs}{exon_id}{protein} {tail}",
                    ),
                )
            )
    if cds:
        codon_attrs = f"{tx_attrs}level 2;{protein} {tail}"
        low, high = cds[0][0], cds[-1][1]
        start_codon, stop_codon = (
            ((low, low + 2), (high + 1, high + 3))
            if strand == "+"
            else ((high - 2, high), (max(1, low - 3), max(1, low - 1)))
        )
        lines.append(
            (
                "start_codon",
                _line(chrom, source, "start_codon", *start_codon, strand, "0", codon_attrs),
            )
        )
        lines.append(
            (
                "stop_codon",
                _line(chrom, source, "stop_codon", *stop_codon, strand, "0", codon_attrs),
            )
        )
    return lines


def _cds(exons: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Coding parts: the exons but the first and last halves of the outer exons (sorted)."""
    if len(exons) == 1:
        start, end = exons[0]
        quarter = max(1, (end - start) // 4)
        return [(start + quarter, end - quarter)] if end - start > 20 else []
    first, last = exons[0], exons[-1]
    inner = list(exons[1:-1])
    head = ((first[0] + first[1]) // 2, first[1])
    tail = (last[0], (last[0] + last[1]) // 2)
    return [head, *inner, tail]


def _line(chrom, source, feature, start, end, strand, phase, attrs) -> str:
    return f"{chrom}\t{source}\t{feature}\t{start}\t{end}\t.\t{strand}\t{phase}\t{attrs}\n"
