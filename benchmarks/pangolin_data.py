#!/usr/bin/env python3
"""Pangolin fidelity data: inputs in ``tests/data/pangolin/`` and Pangolin's own outputs for them.

Three steps, each deterministic::

    .venv/bin/python benchmarks/pangolin_data.py inputs           # GTFs, VCFs, the CSV
    .venv/bin/python benchmarks/pangolin_data.py db               # chr16 gffutils database
    .venv/bin/python benchmarks/pangolin_data.py expected NAME... # run Pangolin: expected/NAME.*

``inputs`` writes

- ``chr16_genes_full.gtf``: ``examples/chr16_genes.gtf.gz`` with a ``gene`` row
  added per transcript (gene_id = the accession, which is also the rows'
  transcript_id), so that Pangolin's ``create_db.py --filter None`` finds genes.
  No ``transcript`` rows: gffutils names a GTF gene by its gene_id and a
  transcript by its transcript_id, and two features of one ID stop create_db.py
  ("Duplicate ID"); the exons are the gene's children all the same;
- ``chr19_grch37.gtf``: the chr19 rows of SpliceAI's ``grch37`` table that end by
  1,500,000, as gene, transcript and exon rows (gene_id = NAME, transcript_id =
  NAME.1), for ``../shared/data/golden/chr19_grch37_small.fa.gz`` (contig ``chr19``);
- ``chr16_pangolin.vcf``, ``chr19_pangolin.vcf`` and ``chr16_pangolin.csv``:
  seeded variants of every kind Pangolin treats differently (see ``variants``).

``db`` runs ``create_db.py --filter None`` from the peer venv
(``benchmarks/peers/run_pangolin.sh``) and writes ``chr16_genes_full.db`` (the
chr19 database, 300 KB, is not kept: ``expected`` makes each database afresh).
``expected`` runs Pangolin on one core (``taskset -c 1``, ``PANGOLIN_THREADS=1``)
on plain copies of the inputs in a temporary directory and keeps its output
file and stdout as ``expected/NAME.{vcf,csv}`` and ``expected/NAME.stdout``;
wall and CPU seconds go to ``expected/runs.tsv``. Runs over the same input share
the networks' scores through ``benchmarks/peers/pangolin_cached.py`` (the first
one computes them; ``--plain`` turns that off), so only the first run's time is
that of Pangolin scoring every record.

Standard library only, apart from ``spliceannot.readers.annotation.builtin_table_path``
(hence the repository's ``.venv``, where the ``spliceai`` package that ships the table is installed).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "data" / "pangolin"
EXPECTED = OUT / "expected"
RUN_PANGOLIN = REPO / "benchmarks" / "peers" / "run_pangolin.sh"
CHR16_FASTA = REPO / "examples" / "chr16_region.fa.gz"
CHR16_GTF = REPO / "examples" / "chr16_genes.gtf.gz"
CHR19_FASTA = REPO.parent / "shared" / "data" / "golden" / "chr19_grch37_small.fa.gz"
CHR19_LAST_END = 1_500_000  # transcripts of the grch37 table kept: chr19, TX_END <= this
FLANK = 5000  # Pangolin's context on each side of the scored span
SCORE_CACHE = (
    Path(os.environ.get("SPLICEANNOT_CACHE", Path.home() / ".cache" / "spliceannot"))
    / "peers"
    / "pangolin-score-cache"
)


@dataclass(frozen=True)
class Gene:
    """One transcript as Pangolin sees it (gene = transcript); 1-based inclusive coordinates."""

    name: str
    strand: str
    start1: int
    end1: int
    exons: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Run:
    """One Pangolin run: input file, FASTA, gffutils database (all in OUT) and extra arguments."""

    variants: str
    fasta: Path
    db: str
    args: tuple[str, ...]

    @property
    def cache(self) -> str:
        """Runs over the same variants share their network scores (pangolin_cached.py)."""
        return self.variants.replace(".", "_")


RUNS = {
    "chr16_d50": Run("chr16_pangolin.vcf", CHR16_FASTA, "chr16_genes_full.db", ("-d", "50")),
    "chr16_d50_nomask": Run(
        "chr16_pangolin.vcf", CHR16_FASTA, "chr16_genes_full.db", ("-d", "50", "-m", "False")
    ),
    "chr19_d500": Run("chr19_pangolin.vcf", CHR19_FASTA, "chr19_grch37.db", ("-d", "500")),
    "chr19_d500_nomask": Run(
        "chr19_pangolin.vcf", CHR19_FASTA, "chr19_grch37.db", ("-d", "500", "-m", "False")
    ),
    "chr16_csv": Run("chr16_pangolin.csv", CHR16_FASTA, "chr16_genes_full.db", ()),
    "chr16_csv_s002": Run("chr16_pangolin.csv", CHR16_FASTA, "chr16_genes_full.db", ("-s", "0.02")),
}


def read_fasta(path: Path) -> tuple[str, str]:
    """The one sequence of a (b)gzipped FASTA: (name, sequence as written, soft-masking kept)."""
    with gzip.open(path, "rt") as handle:
        name = handle.readline()[1:].split()[0]
        return name, "".join(line.strip() for line in handle)


def chr16_genes() -> list[Gene]:
    exons: dict[str, list[tuple[int, int]]] = {}
    strands: dict[str, str] = {}
    with gzip.open(CHR16_GTF, "rt") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if fields[2] != "exon":
                continue
            name = fields[8].split('transcript_id "')[1].split('"')[0]
            exons.setdefault(name, []).append((int(fields[3]), int(fields[4])))
            strands[name] = fields[6]
    return [
        Gene(name, strands[name], min(s for s, _ in ex), max(e for _, e in ex), tuple(sorted(ex)))
        for name, ex in exons.items()
    ]


def write_chr16_gtf(genes: list[Gene], path: Path) -> None:
    """Gene rows first (in order of first appearance), then every original row unchanged."""
    with open(path, "w") as out:
        out.writelines(
            f'chr16\thg38_refGene\tgene\t{gene.start1}\t{gene.end1}\t.\t{gene.strand}\t.\tgene_id "{gene.name}";\n'
            for gene in genes
        )
        with gzip.open(CHR16_GTF, "rt") as handle:
            out.write(handle.read())


def chr19_genes() -> list[Gene]:
    sys.path.insert(0, str(REPO))
    from spliceannot.readers.annotation import builtin_table_path

    genes = []
    with open(builtin_table_path("grch37")) as handle:
        for line in handle:
            name, chrom, strand, tx_start0, tx_end1, exon_starts, exon_ends = line.rstrip(
                "\n"
            ).split("\t")
            if chrom != "19" or int(tx_end1) > CHR19_LAST_END:
                continue
            starts = [int(s) + 1 for s in exon_starts.split(",")[:-1]]
            ends = [int(e) for e in exon_ends.split(",")[:-1]]
            genes.append(
                Gene(name, strand, int(tx_start0) + 1, int(tx_end1), tuple(zip(starts, ends)))
            )
    return genes


def write_chr19_gtf(genes: list[Gene], path: Path) -> None:
    with open(path, "w") as out:
        for gene in genes:
            gene_attr = f'gene_id "{gene.name}";'
            tx_attr = f'{gene_attr} transcript_id "{gene.name}.1";'
            row = f"chr19\tspliceai_grch37\t{{}}\t{{}}\t{{}}\t.\t{gene.strand}\t.\t{{}}\n"
            out.write(row.format("gene", gene.start1, gene.end1, gene_attr))
            out.write(row.format("transcript", gene.start1, gene.end1, tx_attr))
            out.writelines(
                row.format("exon", start1, end1, f'{tx_attr} exon_number "{number}";')
                for number, (start1, end1) in enumerate(gene.exons, 1)
            )


BASES = "ACGT"


class Picker:
    """Seeded choice of variants on one contig; REF is read from the FASTA (upper-cased)."""

    def __init__(self, seed: int, seq: str, genes: list[Gene], distance: int) -> None:
        self.rng = random.Random(seed)
        self.seq = seq
        self.genes = genes
        # Positions whose whole window (distance + FLANK each side, 30 bp of REF) lies on the contig.
        self.low = FLANK + distance + 2
        self.high = len(seq) - FLANK - distance - 31

    def ref(self, pos1: int, length: int) -> str:
        return self.seq[pos1 - 1 : pos1 - 1 + length].upper()

    def upper(self, pos1: int, length: int) -> bool:
        text = self.seq[pos1 - 1 : pos1 - 1 + length]
        return text.isupper() and "N" not in text

    def upper_near(self, pos1: int) -> int:
        """The position nearest to pos1 (the later one on a tie) whose base is upper-case."""
        for step in range(1000):
            for candidate in (pos1 + step, pos1 - step):
                if self.upper(candidate, 1):
                    return candidate
        raise ValueError(f"no upper-case base near {pos1}")

    def gene(self, strand: str | None = None) -> Gene:
        pool = [
            g
            for g in self.genes
            if strand in (None, g.strand) and g.end1 > self.low and g.start1 < self.high
        ]
        return self.rng.choice(pool)

    def in_gene(self, strand: str | None, length: int, *, upper: bool = True) -> int:
        while True:
            gene = self.gene(strand)
            pos1 = self.rng.randint(
                max(gene.start1 + 1, self.low), min(gene.end1 - length, self.high)
            )
            if self.upper(pos1, length) == upper:
                return pos1

    def near_boundary(self, strand: str | None, side: int) -> int:
        """A position 0-3 bp from an exon's first (side 0) or last (side 1) base."""
        while True:
            gene = self.gene(strand)
            boundary = self.rng.choice(gene.exons)[side]
            pos1 = boundary + self.rng.randint(-3, 3)
            if self.low <= pos1 <= self.high and self.upper(pos1, 3):
                return pos1

    def other_base(self, base: str) -> str:
        return self.rng.choice([b for b in BASES if b != base])

    def snv(self, pos1: int) -> tuple[int, str, str]:
        ref = self.ref(pos1, 1)
        return pos1, ref, self.other_base(ref)

    def insertion(self, pos1: int, size: int) -> tuple[int, str, str]:
        ref = self.ref(pos1, 1)
        return pos1, ref, ref + "".join(self.rng.choice(BASES) for _ in range(size))

    def deletion(self, pos1: int, size: int) -> tuple[int, str, str]:
        ref = self.ref(pos1, size + 1)
        return pos1, ref, ref[0]

    def mnv(self, pos1: int, size: int) -> tuple[int, str, str]:
        ref = self.ref(pos1, size)
        return pos1, ref, "".join(self.other_base(b) for b in ref)


def variants(
    picker: Picker, contig: str, *, long_deletion: int, intergenic: list[int]
) -> list[tuple]:
    """(CHROM, POS, REF, ALT) of every kind; ALT may hold several alleles separated by commas."""
    p = picker
    rows: list[tuple] = []
    for strand in "+-":
        rows += [p.snv(p.in_gene(strand, 1)) for _ in range(14)]
        rows += [p.insertion(p.in_gene(strand, 1), p.rng.randint(1, 10)) for _ in range(5)]
        rows += [p.deletion(p.in_gene(strand, 31), p.rng.randint(1, 30)) for _ in range(5)]
        rows += [p.mnv(p.in_gene(strand, 3), p.rng.randint(2, 3)) for _ in range(3)]
        for side in (0, 1):
            rows += [p.snv(p.near_boundary(strand, side)) for _ in range(5)]
            rows.append(p.insertion(p.near_boundary(strand, side), p.rng.randint(1, 4)))
            rows.append(p.deletion(p.near_boundary(strand, side), p.rng.randint(1, 6)))
    # Complex (REF and ALT both longer than 1, unequal): Pangolin skips them.
    for ref_len, alt_len in ((2, 3), (3, 2), (4, 2)):
        pos1 = p.in_gene(None, 4)
        rows.append(
            (pos1, p.ref(pos1, ref_len), "".join(p.rng.choice(BASES) for _ in range(alt_len)))
        )
    # Multi-allelic: Pangolin scores ALT[0] only.
    for kind in ("snv", "ins_first", "del_first", "snv_then_ins"):
        pos1 = p.in_gene(None, 4)
        ref = p.ref(pos1, 1)
        a, b = [x for x in BASES if x != ref][:2]
        if kind == "snv":
            rows.append((pos1, ref, f"{a},{b}"))
        elif kind == "ins_first":
            rows.append((pos1, ref, f"{ref}TG,{a}"))
        elif kind == "del_first":
            ref3 = p.ref(pos1, 3)
            rows.append((pos1, ref3, f"{ref3[0]},{a}{ref3[1:]}"))
        else:
            rows.append((pos1, ref, f"{a},{ref}A"))
    # Indels whose first base differs from REF's (not VCF-normalised): still scored.
    pos1 = p.in_gene("+", 1)
    rows.append((pos1, p.ref(pos1, 1), p.other_base(p.ref(pos1, 1)) + "GT"))
    pos1 = p.in_gene("-", 4)
    rows.append((pos1, p.ref(pos1, 4), p.other_base(p.ref(pos1, 1))))
    # Soft-masked REF (written upper-case): Pangolin finds a mismatch and skips.
    rows += [p.snv(p.in_gene(None, 1, upper=False)) for _ in range(3)]
    # REF that is not the FASTA's.
    for _ in range(3):
        pos1 = p.in_gene(None, 1)
        wrong = p.other_base(p.ref(pos1, 1))
        rows.append((pos1, wrong, p.other_base(wrong)))
    # ALT alleles that are not sequence.
    for alt in ("*", "<DEL>", "R", "N"):
        pos1 = p.in_gene(None, 1)
        rows.append((pos1, p.ref(pos1, 1), alt))
    pos1 = p.in_gene(None, 1)
    rows.append((pos1, p.ref(pos1, 1), p.ref(pos1, 1) + "NN"))
    # A deletion longer than 2 * 50 (skipped at -d 50, scored at -d 500).
    rows.append(p.deletion(p.in_gene("+", long_deletion + 1), long_deletion))
    rows += [p.snv(p.upper_near(pos1)) for pos1 in intergenic]
    return [(contig, *row) for row in rows]


INFO_HEADERS = (
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
    '##INFO=<ID=DB,Number=0,Type=Flag,Description="In dbSNP">',
)


def write_vcf(path: Path, rows: list[tuple], contig: str, length: int, seed: int) -> None:
    """Rows sorted by position; QUAL, FILTER, ID and INFO vary in the ways VCF writers render differently."""
    rng = random.Random(seed)
    quals = ("50", "50.0", ".", "0", "12.5", "99", "3.14159")
    filters = ("PASS", "PASS", ".", "LowQual", "q10;LowQual")
    with open(path, "w") as out:
        out.write("##fileformat=VCFv4.2\n##source=spliceannot-pangolin-fidelity\n")
        out.write(
            f"##reference={'chr16_region.fa' if contig == 'chr16' else 'chr19_grch37_small.fa'}\n"
        )
        out.write(f"##contig=<ID={contig},length={length}>\n")
        out.write("\n".join(INFO_HEADERS) + "\n")
        out.write(
            '##FILTER=<ID=LowQual,Description="Low quality">\n##FILTER=<ID=q10,Description="Quality below 10">\n'
        )
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for number, (chrom, pos1, ref, alt) in enumerate(
            sorted(rows, key=lambda r: (r[1], r[2], r[3])), 1
        ):
            n_alt = alt.count(",") + 1
            info = [f"DP={rng.randint(3, 80)}"]
            if rng.random() < 0.5:
                info.append(
                    "AF="
                    + ",".join(rng.choice(("0.5", "0.125", "1e-05", "0.333")) for _ in range(n_alt))
                )
            if rng.random() < 0.2:
                info.append("DB")
            if number == 7:
                info = ["Pangolin=earlier", "DP=3"]
            if number == 11:
                info.append("XX=undeclared")
            info_text = ";".join(info) if rng.random() < 0.9 else "."
            record_id = rng.choice((".", f"rs{rng.randint(1000, 999999)}", f"v{number};w{number}"))
            out.write(
                f"{chrom}\t{pos1}\t{record_id}\t{ref}\t{alt}\t{rng.choice(quals)}\t{rng.choice(filters)}\t{info_text}\n"
            )


def write_csv(path: Path, picker: Picker, seed: int) -> None:
    """Shuffled columns, an ID and an AF column (float, one cell empty); lower-case REF/ALT in one row."""
    p = picker
    rows = [p.snv(p.in_gene(strand, 1)) for strand in "+-" for _ in range(9)]
    rows += [
        p.insertion(p.in_gene(None, 1), 3),
        p.deletion(p.in_gene(None, 8), 7),
        p.mnv(p.in_gene(None, 2), 2),
    ]
    rows += [p.snv(p.near_boundary(strand, side)) for strand in "+-" for side in (0, 1)]
    pos1 = p.in_gene(None, 1)
    rows.append((pos1, p.other_base(p.ref(pos1, 1)), "A"))  # REF mismatch
    pos1, ref, alt = p.snv(p.in_gene(None, 1))
    rows.append((pos1, ref.lower(), alt.lower()))
    rows.append((pos1 + 1, p.ref(pos1 + 1, 3), p.ref(pos1 + 1, 1) + "T"))  # complex
    rng = random.Random(seed)
    afs = ["0.5", "1e-05", "", "0.25", "0.0001", "1", "3.5e-06"]
    columns = ["ID", "ALT", "CHROM", "AF", "POS", "REF"]
    with open(path, "w") as out:
        out.write(",".join(columns) + "\n")
        for number, (pos1, ref, alt) in enumerate(sorted(rows), 1):
            values = {
                "ID": f"var{number}",
                "ALT": alt,
                "CHROM": "chr16",
                "AF": afs[(number + rng.randint(0, 6)) % 7],
                "POS": str(pos1),
                "REF": ref,
            }
            out.write(",".join(values[c] for c in columns) + "\n")


def make_inputs() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    genes16 = chr16_genes()
    write_chr16_gtf(genes16, OUT / "chr16_genes_full.gtf")
    genes19 = chr19_genes()
    write_chr19_gtf(genes19, OUT / "chr19_grch37.gtf")

    contig16, seq16 = read_fasta(CHR16_FASTA)
    picker16 = Picker(16, seq16, genes16, distance=50)
    rows16 = variants(picker16, contig16, long_deletion=120, intergenic=[187_500, 231_000, 278_000])
    rows16.append((contig16, 100_000, "N", "A"))  # in the leading N run (no gene there)
    # In NR_024453 (+), less than 5,000 bp from the contig end, where the bases are soft-masked:
    # a lower-case REF or ALT is not a supported format for Pangolin (no upper-case A, C, G or T);
    # the upper-case REF is a mismatch. (chr19 has a scored record whose window is cut short.)
    lower = {pos1: seq16[pos1 - 1] for pos1 in (392_120, 392_150, 392_160)}
    rows16 += [
        (contig16, 392_120, lower[392_120], picker16.other_base(lower[392_120].upper())),
        (contig16, 392_150, lower[392_150], picker16.other_base(lower[392_150].upper()).lower()),
        (contig16, 392_160, lower[392_160].upper(), picker16.other_base(lower[392_160].upper())),
    ]
    write_vcf(OUT / "chr16_pangolin.vcf", rows16, contig16, len(seq16), seed=160)
    write_csv(OUT / "chr16_pangolin.csv", Picker(1616, seq16, genes16, distance=50), seed=161)

    contig19, seq19 = read_fasta(CHR19_FASTA)
    picker19 = Picker(19, seq19, genes19, distance=500)
    rows19 = variants(picker19, contig19, long_deletion=150, intergenic=[75_000, 1_499_000])
    # Gene bodies of both strands overlap here (two scorings, + genes listed first).
    rows19 += [
        (contig19, *picker19.snv(pos1)) for pos1 in (1_009_700, 1_228_350, 1_086_600, 1_473_220)
    ]
    # "19" for a FASTA named chr19: Pangolin adds the prefix.
    rows19 += [("19", *picker19.snv(picker19.in_gene(strand, 1))) for strand in "+-"]
    # In REEP6 (+), less than 5,500 bp from the contig end: the window is cut short there.
    rows19.append((contig19, *picker19.snv(1_495_000)))
    rows19.append(
        (contig19, *picker19.deletion(picker19.in_gene("-", 1200), 1100))
    )  # > 2 * 500: skipped
    write_vcf(OUT / "chr19_pangolin.vcf", rows19, contig19, len(seq19), seed=190)


def make_db(gtf: str, directory: Path) -> Path:
    """Pangolin's ``create_db.py --filter None`` on OUT/gtf; the database is written to directory."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(OUT / gtf, tmp)
        command = ["bash", str(RUN_PANGOLIN), "create_db.py", gtf, "--filter", "None"]
        subprocess.run(command, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        return Path(shutil.copy(Path(tmp) / gtf.replace(".gtf", ".db"), directory))


def run_expected(name: str, score_cache: Path | None) -> None:
    """Run Pangolin for RUNS[name] on one core; keep its output and stdout, log wall and CPU seconds.

    With ``score_cache``, the network scores of each window pair are kept in
    ``score_cache/<input>`` and reused by the other runs over the same input.
    """
    run = RUNS[name]
    EXPECTED.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / run.fasta.name.removesuffix(".gz")
        with gzip.open(run.fasta, "rb") as src, open(fasta, "wb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copy(OUT / run.variants, tmp)
        make_db(run.db.replace(".db", ".gtf"), Path(tmp))
        suffix = Path(run.variants).suffix
        command = [
            "taskset",
            "-c",
            "1",
            "bash",
            str(RUN_PANGOLIN),
            run.variants,
            fasta.name,
            run.db,
            name,
            *run.args,
        ]
        env = {**os.environ, "PANGOLIN_THREADS": "1"}
        if score_cache is not None:
            env["PANGOLIN_SCORE_CACHE"] = str(score_cache / run.cache)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(
            command,
            check=False,
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        (EXPECTED / f"{name}.stdout").write_text(result.stdout)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"{name}: pangolin exited {result.returncode}")
        shutil.copy(Path(tmp) / f"{name}{suffix}", EXPECTED / f"{name}{suffix}")
    shown = " ".join(
        [
            "PANGOLIN_THREADS=1",
            *([f"PANGOLIN_SCORE_CACHE=.../{run.cache}"] if score_cache else []),
            "taskset -c 1 benchmarks/peers/run_pangolin.sh",
            run.variants,
            fasta.name,
            run.db,
            name,
            *run.args,
        ]
    )
    log = EXPECTED / "runs.tsv"
    lines = log.read_text().splitlines()[1:] if log.exists() else []
    lines = [line for line in lines if not line.startswith(name + "\t")]
    lines.append(f"{name}\t{wall:.1f}\t{cpu:.1f}\t{shown}")
    log.write_text("name\twall_s\tcpu_s\tcommand\n" + "\n".join(sorted(lines)) + "\n")
    print(f"{name}: wall {wall:.1f} s, cpu {cpu:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("inputs")
    sub.add_parser("db")
    expected = sub.add_parser("expected")
    expected.add_argument("names", nargs="+", choices=sorted(RUNS))
    expected.add_argument(
        "--score-cache",
        type=Path,
        default=SCORE_CACHE,
        help=f"network scores shared between runs over one input (default {SCORE_CACHE})",
    )
    expected.add_argument("--plain", action="store_true", help="run plain Pangolin, no score cache")
    args = parser.parse_args()
    if args.step == "inputs":
        make_inputs()
    elif args.step == "db":
        make_db("chr16_genes_full.gtf", OUT)
    else:
        for name in args.names:
            run_expected(name, None if args.plain else args.score_cache)


if __name__ == "__main__":
    main()
