"""Deterministic VCF workloads on the real GRCh38 chr16 region of examples/.

The variants are synthetic (drawn with a seeded ``random.Random``) and placed
on real sequence: REF is always the upper-cased FASTA base(s).

- ``dense``: about one variant per 500 bp of the genes of SpliceAI's ``grch38``
  table that lie in the region, 30% within 50 bp of an exon boundary (a third
  of those within 2 bp: on the splice site, where delta scores are high);
  SNVs, deletions, insertions, multi-allelic records and a few MNVs. Every
  record is scorable.
- ``sparse``: one SNV per gene, at least one scoring window (10,000 + 2D + 1 bp)
  apart, so no two records share sequence context.
- ``scale-N``: N records, almost all of which pass through unscored (half on
  chr16 between genes, half on chr17, a contig absent from the FASTA) mixed
  with a fixed number of scorable ones: it measures streaming memory, not
  model speed.
"""

from __future__ import annotations

import bisect
import json
import os
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from .genome import Gene, Genome, intergenic_gap, scorable_genes

#: Bump when the generator changes, so cached workloads are rebuilt.
GENERATOR_VERSION = 2

BASES = "ACGT"
MIN_SPACING = 25
NEAR_BOUNDARY = 50
NEAR_FRACTION = 0.3
SPLICE_SITE_REACH = 2  # a third of the near-boundary draws hit the splice site itself
SPLICE_SITE_SHARE = 1 / 3
DENSE_BP_PER_VARIANT = 500
KIND_WEIGHTS = {"snv": 70, "deletion": 12, "insertion": 10, "multiallelic": 6, "mnv": 2}
ABSENT_CONTIG = ("chr17", 83_257_441)


@dataclass(frozen=True)
class Workload:
    """One input VCF and what it holds.

    Attributes
    ----------
    name : str
        ``dense``, ``sparse``, ``scale-100000``, ... (``-quick`` appended in quick mode).
    path : Path
        The plain-text VCF.
    records : int
        Data lines in the VCF.
    scorable : int
        Records inside a gene with the right REF (the rest pass through).
    kinds : dict
        Records per kind (``snv``, ``deletion``, ..., ``pass-through``).
    description : str
        One sentence for RESULTS.md.
    peers : bool
        Whether SpliceAI and OpenSpliceAI run on it (not on the scale workloads).
    """

    name: str
    path: Path
    records: int
    scorable: int
    kinds: dict
    description: str
    peers: bool


@dataclass(frozen=True)
class _Record:
    chrom: str
    pos: int
    ref: str
    alt: str
    kind: str


class _PositionDrawer:
    """Draws distinct positions inside genes, at least ``MIN_SPACING`` apart."""

    def __init__(self, rng: random.Random, genes: list[Gene], room: int = 16):
        self.rng = rng
        self.room = room
        self.intervals = merge_intervals([(g.first_pos, g.tx_end_1based - room) for g in genes])
        self.cumulative = []
        total = 0
        for start, end in self.intervals:
            total += end - start + 1
            self.cumulative.append(total)
        self.boundaries = sorted({b for g in genes for b in g.exon_boundaries_1based})
        self.taken: list[int] = []

    @property
    def span(self) -> int:
        return self.cumulative[-1]

    def _inside(self, pos: int) -> bool:
        i = bisect.bisect_right([start for start, _ in self.intervals], pos) - 1
        return i >= 0 and pos <= self.intervals[i][1]

    def _free(self, pos: int) -> bool:
        i = bisect.bisect_left(self.taken, pos)
        left_ok = i == 0 or pos - self.taken[i - 1] >= MIN_SPACING
        right_ok = i == len(self.taken) or self.taken[i] - pos >= MIN_SPACING
        return left_ok and right_ok

    def draw(self) -> int:
        while True:
            if self.boundaries and self.rng.random() < NEAR_FRACTION:
                share = self.rng.random() < SPLICE_SITE_SHARE
                reach = SPLICE_SITE_REACH if share else NEAR_BOUNDARY
                pos = self.rng.choice(self.boundaries) + self.rng.randint(-reach, reach)
            else:
                offset = self.rng.randrange(self.span)
                i = bisect.bisect_right(self.cumulative, offset)
                start = self.intervals[i][0]
                pos = start + offset - (self.cumulative[i - 1] if i else 0)
            if self._inside(pos) and self._free(pos):
                bisect.insort(self.taken, pos)
                return pos


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive intervals, sorted, those that overlap or touch joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _other_base(rng: random.Random, base: str, exclude: str = "") -> str:
    return rng.choice([b for b in BASES if b != base and b not in exclude])


def _random_bases(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(BASES) for _ in range(n))


def _make_variant(rng: random.Random, genome: Genome, pos: int, kind: str) -> _Record:
    """A variant of ``kind`` at ``pos`` with REF taken from the genome."""
    base = genome.ref(pos)
    if kind == "snv":
        ref, alt = base, _other_base(rng, base)
    elif kind == "deletion":
        ref = genome.ref(pos, 1 + rng.randint(1, 10))
        alt = ref[0]
    elif kind == "insertion":
        ref, alt = base, base + _random_bases(rng, rng.randint(1, 8))
    elif kind == "multiallelic":
        if rng.random() < 0.5:
            first = _other_base(rng, base)
            ref, alt = base, f"{first},{_other_base(rng, base, exclude=first)}"
        else:  # an SNV and a deletion, written with the deletion's longer REF
            ref = genome.ref(pos, 1 + rng.randint(1, 6))
            alt = f"{_other_base(rng, base)}{ref[1:]},{ref[0]}"
    elif kind == "mnv":
        ref = genome.ref(pos, 2)
        alt = _other_base(rng, ref[0]) + _other_base(rng, ref[1])
    else:
        raise ValueError(kind)
    return _Record(genome.contig, pos, ref, alt, kind)


def _draw_variants(
    rng: random.Random, genome: Genome, genes: list[Gene], count: int, kinds: dict[str, int]
) -> list[_Record]:
    drawer = _PositionDrawer(rng, genes)
    names, weights = list(kinds), list(kinds.values())
    records = []
    while len(records) < count:
        pos = drawer.draw()
        record = _make_variant(rng, genome, pos, rng.choices(names, weights)[0])
        if "N" not in record.ref:
            records.append(record)
    return sorted(records, key=lambda r: r.pos)


def dense_records(genome: Genome, genes: list[Gene], seed: int) -> list[_Record]:
    """About one variant per 500 bp of the genes' union, of every kind."""
    rng = random.Random(f"dense:{seed}")
    span = _PositionDrawer(rng, genes).span
    return _draw_variants(rng, genome, genes, round(span / DENSE_BP_PER_VARIANT), KIND_WEIGHTS)


def sparse_records(genome: Genome, genes: list[Gene], seed: int, window: int) -> list[_Record]:
    """One SNV per gene, each at least ``window`` bp after the previous one.

    Genes with no room left after the previous record are skipped.
    """
    rng = random.Random(f"sparse:{seed}")
    records: list[_Record] = []
    previous = -window
    for gene in genes:
        first = max(gene.first_pos, previous + window)
        room = gene.tx_end_1based - first
        if room < 0:
            continue
        pos = first + rng.randint(0, min(room, 2000))
        records.append(_make_variant(rng, genome, pos, "snv"))
        previous = pos
    return records


def spaced_records(
    genome: Genome, genes: list[Gene], seed: int, spacing: int, count: int
) -> list[_Record]:
    """``count`` SNVs exactly ``spacing`` bp apart along the genes' union (the density sweep).

    Positions walk the merged gene intervals from their first base: one SNV
    every ``spacing`` bases of gene sequence, the stretches between genes
    skipped, starting ``spacing // 2`` into the first gene.
    """
    rng = random.Random(f"spaced:{seed}:{spacing}")
    records: list[_Record] = []
    offset = spacing // 2
    for start, end in merge_intervals([(g.first_pos, g.tx_end_1based) for g in genes]):
        pos = start + offset
        while pos <= end and len(records) < count:
            if genome.ref(pos) != "N":
                records.append(_make_variant(rng, genome, pos, "snv"))
            pos += spacing
        offset = pos - end - 1
    return records


def scale_records(
    genome: Genome,
    genes: list[Gene],
    all_genes: list[Gene],
    seed: int,
    total: int,
    scorable: int,
    half_window: int,
) -> list[_Record]:
    """``total`` records: ``scorable`` in genes, the rest pass-through records.

    Half of the pass-through records are SNVs with the right REF on chr16 in
    the longest stretch of real sequence that no gene of the table covers;
    the other half are on ``chr17``, a contig absent from the FASTA.
    """
    rng = random.Random(f"scale:{seed}:{total}")
    in_genes = _draw_variants(
        rng, genome, genes, min(scorable, total), {"snv": 8, "deletion": 1, "insertion": 1}
    )
    passing = total - len(in_genes)
    on_chr16 = passing // 2
    gap_start, gap_end = intergenic_gap(all_genes, genome, half_window)
    gap_len = gap_end - gap_start + 1
    intergenic = []
    for i in range(on_chr16):
        pos = gap_start + (i * gap_len) // max(on_chr16, 1)
        base = genome.ref(pos)
        intergenic.append(_Record(genome.contig, pos, base, _other_base(rng, base), "pass-through"))
    absent_contig = ABSENT_CONTIG[0]
    absent = [
        _Record(absent_contig, 1_000_000 + 10 * i, "A", rng.choice("CGT"), "pass-through")
        for i in range(passing - on_chr16)
    ]
    return sorted(in_genes + intergenic, key=lambda r: r.pos) + absent


def _write_vcf(records: list[_Record], path: Path, genome: Genome, name: str, seed: int) -> None:
    contigs = [f"##contig=<ID={genome.contig},length={genome.length}>"]
    if any(r.chrom == ABSENT_CONTIG[0] for r in records):
        contigs.append(f"##contig=<ID={ABSENT_CONTIG[0]},length={ABSENT_CONTIG[1]}>")
    header = [
        "##fileformat=VCFv4.2",
        f"##source=spliceannot-benchmarks workload={name} seed={seed} gen={GENERATOR_VERSION}",
        *contigs,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    with_ids = len(records) <= 100_000
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as out:
        out.write("\n".join(header) + "\n")
        batch = []
        for i, r in enumerate(records, 1):
            ident = f"{name}{i}" if with_ids else "."
            batch.append(f"{r.chrom}\t{r.pos}\t{ident}\t{r.ref}\t{r.alt}\t.\t.\t.\n")
            if len(batch) >= 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    os.replace(tmp, path)


def _workload(
    name: str, path: Path, records: list[_Record], description: str, peers: bool
) -> Workload:
    kinds = dict(sorted(Counter(r.kind for r in records).items()))
    scorable = sum(n for kind, n in kinds.items() if kind != "pass-through")
    return Workload(name, path, len(records), scorable, kinds, description, peers)


def build(
    name: str, records_fn, description: str, peers: bool, genome: Genome, seed: int, directory: Path
) -> Workload:
    """Write the workload ``name`` unless it is cached, and describe it.

    ``records_fn()`` makes the records; it is called only on a cache miss.
    The cache key is the name, the seed and :data:`GENERATOR_VERSION`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{name}.seed{seed}.v{GENERATOR_VERSION}"
    path, meta_path = directory / f"{stem}.vcf", directory / f"{stem}.json"
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return Workload(**{**meta, "path": path})
    records = records_fn()
    _write_vcf(records, path, genome, name, seed)
    workload = _workload(name, path, records, description, peers)
    meta_path.write_text(
        json.dumps({k: v for k, v in asdict(workload).items() if k != "path"}, indent=1)
    )
    return workload


def sample(records: list[_Record], count: int) -> list[_Record]:
    """``count`` records for quick mode: the first of each kind, the rest spread evenly.

    Returned in their original (position) order.
    """
    if count >= len(records):
        return records
    first_of_kind: dict[str, int] = {}
    for i, record in enumerate(records):
        first_of_kind.setdefault(record.kind, i)
    picked = set(sorted(first_of_kind.values())[:count])
    step = len(records) / count
    for i in (int(k * step) for k in range(count)):
        if len(picked) >= count:
            break
        picked.add(i)
    return [records[i] for i in sorted(picked)]


def make_workloads(
    names: list[str],
    genome: Genome,
    all_genes: list[Gene],
    seed: int,
    distance: int,
    scale_sizes: list[int],
    scale_scorable: int,
    quick: bool,
    directory: Path,
    dense_limit: int = 0,
) -> list[Workload]:
    """Build (or load from the cache) the workloads selected by ``names``.

    ``names`` holds ``dense``, ``sparse`` and/or ``scale``. In quick mode the
    dense and sparse sets are cut to a few records spread over the full set.
    ``dense_limit`` (0 = all) keeps the first records of the dense set in
    position order: a contiguous stretch of genes at the same density.
    """
    window = 10_000 + 2 * distance + 1
    genes = scorable_genes(all_genes, genome, window // 2)
    suffix = "-quick" if quick else ""
    workloads = []
    if "dense" in names:
        limit = 0 if quick else dense_limit

        def dense():
            full = dense_records(genome, genes, seed)
            if quick:
                return sample(full, 6)
            return full[:limit] if limit else full

        name = f"dense-{limit}" if limit else f"dense{suffix}"
        first = dense()
        last_pos = first[-1].pos if first else 0
        covered = [g for g in genes if g.first_pos <= last_pos]
        workloads.append(
            build(
                name,
                lambda: first,
                "real-sequence variants about one per 500 bp inside the genes "
                f"({', '.join(g.name for g in covered)}), 30% within {NEAR_BOUNDARY} bp "
                f"of an exon boundary, a third of those within {SPLICE_SITE_REACH} bp",
                True,
                genome,
                seed,
                directory,
            )
        )
    if "sparse" in names:

        def sparse():
            full = sparse_records(genome, genes, seed, window)
            return sample(full, 3) if quick else full

        workloads.append(
            build(
                f"sparse{suffix}",
                sparse,
                f"one SNV per gene, at least {window:,} bp (one scoring window) apart",
                True,
                genome,
                seed,
                directory,
            )
        )
    if "scale" in names:
        for size in scale_sizes:
            workloads.append(
                build(
                    f"scale-{size}{suffix}",
                    lambda size=size: scale_records(
                        genome, genes, all_genes, seed, size, scale_scorable, window // 2
                    ),
                    f"{size:,} records: {min(scale_scorable, size)} scorable in genes, the rest "
                    f"pass through (half on {genome.contig} between genes, half on "
                    f"{ABSENT_CONTIG[0]}, absent from the FASTA)",
                    False,
                    genome,
                    seed,
                    directory,
                )
            )
    return workloads


#: The density sweep: (name, spacing in bp or 0 for one SNV per gene, records).
DENSITIES = (
    ("spaced-500", 500, 120),
    ("spaced-1000", 1_000, 100),
    ("spaced-2000", 2_000, 70),
    ("spaced-3500", 3_500, 40),
    ("one-per-gene", 0, 0),
)


def density_workloads(
    genome: Genome,
    all_genes: list[Gene],
    seed: int,
    distance: int,
    directory: Path,
    scale: float = 1.0,
) -> list[Workload]:
    """The SNV workloads of the density sweep (:data:`DENSITIES`), built or loaded from the cache.

    ``scale`` multiplies the record counts (a smoke run uses a small one);
    ``one-per-gene`` is the ``sparse`` set: one SNV per gene, each at least
    one scoring window from the previous one.
    """
    window = 10_000 + 2 * distance + 1
    genes = scorable_genes(all_genes, genome, window // 2)
    workloads = []
    for name, spacing, count in DENSITIES:
        if spacing:
            count = max(2, round(count * scale))
            records = spaced_records(genome, genes, seed, spacing, count)
            description = f"{len(records)} SNVs {spacing:,} bp apart along the genes"
            fn = lambda records=records: records
        else:
            records = sparse_records(genome, genes, seed, window)
            if scale < 1:
                records = sample(records, max(2, round(len(records) * scale)))
            description = f"one SNV per gene, at least {window:,} bp (one scoring window) apart"
            fn = lambda records=records: records
        suffix = "" if scale == 1 else f"-x{scale:g}"
        workloads.append(
            build(f"{name}-{len(records)}{suffix}", fn, description, True, genome, seed, directory)
        )
    return workloads
