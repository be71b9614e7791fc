"""Bad and odd inputs, and what spliceannot must do with each: one table.

Every case names its input, the command run on it and the documented
outcome, which is one of

- ``error``: exit code 2, exactly one line on stderr
  (``spliceannot COMMAND: error: ...``) naming the file (and line), no
  traceback, nothing left at the output path;
- ``pass``: exit code 0, every input record in the output in input order,
  the unscored ones counted in the one-line summary on stderr;
- ``ok``: exit code 0 with the stated result (gene-table, create-data);
- ``reply``: ``serve`` answers the line (``mentions`` are in the JSON reply) and stays up.

The small inputs live in ``tests/data/hostile/`` (written by
:func:`write_corpus`); large ones (10,000 ALTs, a 1 Mb REF, a 5 MB line) and
things git cannot hold (a directory, a symlink loop) are made at test time.

``python tests/hostile_cases.py --write-data`` rewrites the corpus and
``--write-readme`` its README (the table below, as Markdown); tests check
that both are up to date.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "hostile"

# --------------------------------------------------------------------------- the corpus genome

CHR1_LENGTH = 3000
MT_LENGTH = 600
TABLE_HEADER = "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END"
TABLE_ROWS = [
    "GENE1\tchr1\t+\t200\t2800\t200,1200,2000,\t900,1500,2800,",
    "EDGE\tchr1\t-\t0\t3000\t0,1500,\t1000,3000,",
    "GHOST\tchr9\t+\t0\t1000\t0,\t1000,",
    "MITO\tchrM\t+\t0\t600\t0,300,\t200,600,",
]
VCF_HEADER = [
    "##fileformat=VCFv4.2",
    f"##contig=<ID=chr1,length={CHR1_LENGTH}>",
    "##contig=<ID=chr9,length=1000>",
    f"##contig=<ID=chrM,length={MT_LENGTH}>",
]
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


@functools.lru_cache(maxsize=1)
def genome() -> dict[str, str]:
    """The corpus genome: ``chr1`` (3,000 bp) and ``MT`` (600 bp), seeded random bases."""
    rng = random.Random(7)
    return {
        "chr1": "".join(rng.choice("ACGT") for _ in range(CHR1_LENGTH)),
        "MT": "".join(rng.choice("ACGT") for _ in range(MT_LENGTH)),
    }


def base(contig: str, pos: int, length: int = 1) -> str:
    """Reference bases at 1-based ``pos``."""
    return genome()[contig][pos - 1 : pos - 1 + length]


def fasta_text(newline: str = "\n", width: int = 60) -> str:
    lines = []
    for name, sequence in genome().items():
        lines.append(f">{name}")
        lines += [sequence[i : i + width] for i in range(0, len(sequence), width)]
    return newline.join(lines) + newline


def record(chrom: str, pos: int, ref: str, alt: str, ident: str = ".", info: str = ".") -> str:
    return f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt}\t.\tPASS\t{info}"


def snv(pos: int, ident: str, chrom: str = "chr1", contig: str = "chr1") -> str:
    """A scorable SNV at ``pos`` (REF from the genome, ALT the next base)."""
    ref = base(contig, pos)
    return record(chrom, pos, ref, "ACGT"["ACGT".index(ref) - 1], ident)


def vcf(*records: str, header: list[str] | None = None, newline: str = "\n") -> bytes:
    lines = (VCF_HEADER if header is None else header) + [COLUMNS, *records]
    return (newline.join(lines) + newline).encode()


def _bgzip(data: bytes) -> bytes:
    return subprocess.run(["bgzip", "-c"], input=data, capture_output=True, check=True).stdout


def _bcf(data: bytes) -> bytes:
    """Uncompressed BCF bytes of a VCF text (pysam)."""
    import tempfile

    import pysam

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp, "in.vcf"), Path(tmp, "out.bcf")
        source.write_bytes(data)
        with pysam.VariantFile(str(source)) as reader, pysam.VariantFile(
            str(target), "wb0", header=reader.header
        ) as writer:
            for rec in reader:
                writer.write(rec)
        return gzip.decompress(target.read_bytes())  # level 0 BGZF blocks are valid gzip members


GOOD = [snv(1000, "s1"), snv(1300, "s2"), snv(2100, "s3")]
OLD = "OLD|0.99|0|0|0|1|1|1|1"  # an entry left by an earlier annotation
GTF_LINES = [
    'chr1\ttest\texon\t201\t900\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "GENE1";',
    'chr1\ttest\texon\t1201\t1500\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "GENE1";',
    'chr1\ttest\texon\t2001\t2800\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "GENE1";',
]


def lines_of(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def corpus_files() -> dict[str, bytes]:
    """Every committed file of the corpus: name -> bytes."""
    files: dict[str, bytes] = {}
    table = "\n".join([TABLE_HEADER, *TABLE_ROWS]) + "\n"
    files["genome.fa"] = fasta_text().encode()
    files["genes.txt"] = table.encode()
    files["good.vcf"] = vcf(*GOOD)
    good_bgz = _bgzip(files["good.vcf"])
    files["truncated.vcf.gz"] = good_bgz[: len(good_bgz) // 2]
    files["plain-gzip.vcf.gz"] = gzip.compress(files["good.vcf"], mtime=0)
    bcf = _bcf(files["good.vcf"])
    files["gzip-not-bgzf.bcf"] = gzip.compress(bcf, mtime=0)
    short = bytearray(bcf)
    short[5:9] = (40).to_bytes(4, "little")  # header length far shorter than the header
    files["bad-header-length.bcf"] = _bgzip(bytes(short))
    files["crlf.vcf"] = vcf(*GOOD, newline="\r\n")
    files["no-chrom-line.vcf"] = ("\n".join(VCF_HEADER + GOOD) + "\n").encode()
    files["non-numeric-pos.vcf"] = vcf(GOOD[0], record("chr1", "12x4", "A", "G"), GOOD[1])
    files["pos-zero-and-past-end.vcf"] = vcf(
        record("chr1", 0, "N", "A", "zero"),
        record("chr1", CHR1_LENGTH + 500, "A", "G", "past"),
        record("chr1", 10, base("chr1", 10), "T" if base("chr1", 10) != "T" else "A", "edge"),
        GOOD[0],
    )
    files["empty-alleles.vcf"] = vcf(
        record("chr1", 1000, "", "A"), record("chr1", 1000, base("chr1", 1000), ""), GOOD[1]
    )
    low = base("chr1", 1000)
    files["lowercase-alleles.vcf"] = vcf(
        record("chr1", 1000, low.lower(), "a" if low != "A" else "c", "lowref"),
        record("chr1", 1000, low, "a" if low != "A" else "c", "lowalt"),
    )
    files["iupac-alleles.vcf"] = vcf(
        record("chr1", 1000, "R", "A", "iupacref"),
        record("chr1", 1000, low, "Y", "iupacalt"),
        record("chr1", 1000, low, "N", "nalt"),
    )
    files["n-ref.vcf"] = vcf(record("chr1", 1000, "N", "A", "nref"), GOOD[1])
    files["unsorted-duplicates.vcf"] = vcf(
        GOOD[2], GOOD[0], GOOD[0], GOOD[1], GOOD[0], record("chr9", 5, "A", "G"), GOOD[2]
    )
    files["vcf-without-chr.vcf"] = vcf(
        *(line.removeprefix("chr") for line in GOOD),
        header=[h.replace("ID=chr", "ID=") for h in VCF_HEADER],
    )
    files["genes-without-chr.txt"] = lines_of(TABLE_HEADER, *(r.replace("\tchr", "\t") for r in TABLE_ROWS))
    files["mito-names.vcf"] = vcf(
        snv(400, "m1", chrom="chrM", contig="MT"), snv(100, "m2", chrom="chrM", contig="MT")
    )
    files["contig-not-in-fasta.vcf"] = vcf(record("chr9", 500, "A", "G", "ghost"), GOOD[0])
    files["undeclared-contig.vcf"] = vcf(
        record("chrUn_1", 5, "A", "G"), GOOD[0], header=VCF_HEADER[:2]
    )
    files["header-only.vcf"] = vcf()
    files["empty.vcf"] = b""
    files["garbage.vcf"] = random.Random(3).randbytes(4096)
    files["nul-bytes.vcf"] = vcf(GOOD[0].replace("\tPASS\t.", "\tPASS\tNOTE=a\0b"), GOOD[1])
    files["non-utf8.vcf"] = (
        vcf(GOOD[0], record("chr1", 1300, base("chr1", 1300), "G@"), record("chr@", 5, "A", "G"))
        .replace(b"PASS\t.\n", b"PASS\tNOTE=caf\xe9\xff\n", 1)
        .replace(b"G@", b"G\xff")
        .replace(b"chr@", b"ch\xe9")
    )
    files["existing-spliceai.vcf"] = vcf(
        record("chr1", 1000, low, "ACGT"["ACGT".index(low) - 1], "old1", f"SpliceAI=X|{OLD}"),
        record("chr9", 5, "A", "G", "old2", f"SpliceAI=G|{OLD}"),
        header=[*VCF_HEADER, '##INFO=<ID=SpliceAI,Number=1,Type=String,Description="older">'],
    )
    files["too-few-columns.vcf"] = vcf(GOOD[0], "chr1\t1300\t.\tA", GOOD[2])
    files["truncated-last-line.vcf"] = vcf(GOOD[0], GOOD[1])[:-12]
    files["bad-info.vcf"] = vcf(GOOD[0].replace("\tPASS\t.", "\tPASS\t;;=;==x;"), GOOD[1])
    files["no-fileformat.vcf"] = vcf(*GOOD, header=VCF_HEADER[1:])
    # reference FASTA
    files["crlf.fa"] = fasta_text("\r\n").encode()
    files["stale.fa"] = fasta_text(width=70).encode()
    files["stale.fa.fai"] = _fai(fasta_text(width=60))
    files["gzip.fa.gz"] = gzip.compress(files["genome.fa"], mtime=0)
    files["empty.fa"] = b""
    files["garbage.fa"] = random.Random(4).randbytes(2048)
    files["duplicate-contigs.fa"] = (fasta_text() + ">chr1\nACGT\n").encode()
    # annotation
    files["negative-coordinates.txt"] = table.replace("+\t200\t", "+\t-200\t").encode()
    files["non-numeric.txt"] = (table.replace("\t2800\t", "\t2,8k\t", 1)).encode()
    files["empty.txt"] = b""
    files["genes.gtf"] = lines_of(*GTF_LINES)
    files["missing-attributes.gtf"] = lines_of(
        *(line.split("\tgene_id")[0] + '\tgene_name "X";' for line in GTF_LINES)
    )
    negative = GTF_LINES[1].replace("\t1201\t", "\t-1201\t")
    files["negative-coordinates.gtf"] = lines_of(GTF_LINES[0], negative, GTF_LINES[2])
    files["empty.gtf"] = b""
    files["garbage.gtf"] = random.Random(5).randbytes(2048)
    files["start-after-end.gtf"] = lines_of(
        GTF_LINES[0], GTF_LINES[1].replace("\t1201\t1500\t", "\t1500\t1201\t")
    )
    # models
    files["evil.pt"] = _evil_pickle()
    files["garbage.safetensors"] = random.Random(6).randbytes(4096)
    files["not-keras.h5"] = b"\x89HDF\r\n\x1a\n" + random.Random(8).randbytes(1024)
    return files


MARKER = "/tmp/spliceannot-hostile-pickle-ran"  # what the crafted pickle would create


def _evil_pickle() -> bytes:
    """A pickle whose loading would run ``touch MARKER`` (protocol 2, built by hand)."""
    command = f"touch {MARKER}".encode()
    return (
        b"\x80\x02cposix\nsystem\nq\x00X"
        + len(command).to_bytes(4, "little")
        + command
        + b"q\x01\x85q\x02Rq\x03."
    )


def _fai(text: str) -> bytes:
    """The .fai of a FASTA text with LF line ends."""
    lines, offset, out = text.split("\n"), 0, []
    index = 0
    while index < len(lines):
        line = lines[index]
        offset += len(line) + 1
        if line.startswith(">"):
            name, start, width, length = line[1:].split()[0], offset, 0, 0
            index += 1
            while index < len(lines) and lines[index] and not lines[index].startswith(">"):
                width = width or len(lines[index])
                length += len(lines[index])
                offset += len(lines[index]) + 1
                index += 1
            out.append(f"{name}\t{length}\t{start}\t{width}\t{width + 1}")
            continue
        index += 1
    return ("\n".join(out) + "\n").encode()


def write_corpus(directory: Path = CORPUS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in corpus_files().items():
        (directory / name).write_bytes(data)


# --------------------------------------------------------------------------- the cases


@dataclass
class Env:
    """Where a case runs: a copy of the corpus, plus the tiny model."""

    directory: Path
    model: Path

    def path(self, name: str) -> str:
        return str(self.directory / name)

    def annotate(self, *args, vcf: str = "good.vcf", fasta: str = "genome.fa",
                 annotation: str = "genes.txt", model: str | None = None, out: str = "out.vcf") -> list[str]:
        return [
            "annotate", "-I", self.path(vcf), "-O", self.path(out), "-R", self.path(fasta),
            "-A", self.path(annotation), "-m", model and self.path(model) or str(self.model),
            "--no-cache", "--workers", "1", *args,
        ]


@dataclass(frozen=True)
class Case:
    """One bad or odd input.

    ``build`` returns the command's arguments (or, for ``serve``, the request
    line); ``prepare`` writes what is not committed; ``mentions`` must appear in the error line (or, for ``pass``,
    in the summary); ``output`` is the path (relative to the case directory)
    that must not exist after an error and holds the records after a pass.
    """

    name: str
    input: str
    command: str
    outcome: str
    expected: str
    build: Callable[[Env], list[str] | bytes]
    mentions: tuple[str, ...] = ()
    vcf: str | None = None  # pass: the input whose records must all be in the output
    output: str = "out.vcf"
    check: Callable[[Path, str], None] | None = field(default=None, repr=False)
    prepare: Callable[[Env], None] | None = field(default=None, repr=False)


def _ten_thousand_alts(env: Env) -> None:
    def alts(first: str) -> str:
        tails = itertools.chain.from_iterable(
            itertools.product("ACGT", repeat=n) for n in itertools.count(1)
        )
        return ",".join(first + "".join(tail) for tail in itertools.islice(tails, 10_000))

    # chr9 is in the table, not in the FASTA: read, kept whole, passed through;
    # chr1:1300 is scored: 10,000 insertions against two transcripts
    ref = base("chr1", 1300)
    text = vcf(record("chr9", 5, "A", alts("A"), "many"), record("chr1", 1300, ref, alts(ref), "scored"), GOOD[0])
    Path(env.path("many-alts.vcf")).write_bytes(text)


def _megabase_ref(env: Env) -> None:
    ref = (base("chr1", 1000, 2001) * 500)[:1_000_000]
    Path(env.path("megabase-ref.vcf")).write_bytes(vcf(record("chr1", 1000, ref, "A", "huge"), GOOD[1]))


def _long_line(env: Env) -> None:
    info = "NOTE=" + "x" * 5_000_000
    Path(env.path("long-line.vcf")).write_bytes(vcf(GOOD[0].replace("\tPASS\t.", f"\tPASS\t{info}"), GOOD[1]))


def _directory(name: str) -> Callable[[Env], None]:
    return lambda env: Path(env.path(name)).mkdir(exist_ok=True)


def _symlink_loop(env: Env) -> None:
    for one, two in (("loop-a.vcf", "loop-b.vcf"), ("loop-b.vcf", "loop-a.vcf")):
        if not os.path.lexists(env.path(one)):
            os.symlink(two, env.path(one))


def _check_twenty_thousand_entries(directory: Path, output: str) -> None:
    (scored,) = [line for line in (directory / output).read_text().splitlines() if "\tscored\t" in line]
    entries = scored.split("SpliceAI=")[1].split(",")
    assert len(entries) == 20_000 and all(e.count("|") == 9 for e in entries)


def _device(name: str) -> Callable[[Env], None]:
    """A symbolic link ``name`` to /dev/zero (endless NUL bytes)."""

    def prepare(env: Env) -> None:
        if not os.path.lexists(env.path(name)):
            os.symlink("/dev/zero", env.path(name))

    return prepare


def _check_header_replaced(directory: Path, output: str) -> None:
    from toy import SPLICEAI_HEADER

    text = (directory / output).read_text()
    header = [line for line in text.splitlines() if line.startswith("##INFO=<ID=SpliceAI,")]
    assert header == [SPLICEAI_HEADER], header
    old1, old2 = (line for line in text.splitlines() if not line.startswith("#"))
    assert "OLD" not in old1 and "SpliceAI=" in old1  # scored: the new entry replaces the old
    assert old2.endswith("SpliceAI=G|OLD|0.99|0|0|0|1|1|1|1")  # passed through unchanged


def _check_all_scored_without_cr(directory: Path, output: str) -> None:
    text = (directory / output).read_text()
    assert "\r" not in text
    assert all("SpliceAI=" in line for line in text.splitlines() if not line.startswith("#"))


def _check_rows(expected: int) -> Callable[[Path, str], None]:
    def check(directory: Path, output: str) -> None:
        rows = (directory / output).read_text().splitlines()
        assert len(rows) == 1 + expected, rows

    return check


def _check_datasets(directory: Path, output: str) -> None:
    """The windows equal those made from the plain LF, uncompressed corpus FASTA (create-data)."""
    import h5py
    import numpy as np

    from spliceannot.trainers.data import create_data

    reference = directory / "reference-data"
    create_data(directory / "genome.fa", directory / "genes.gtf", reference, biotype=None, split="random")
    for split in ("train", "validation", "test"):
        with h5py.File(directory / output / f"{split}.h5") as got, h5py.File(reference / f"{split}.h5") as want:
            assert sorted(got) == sorted(want)
            for name in want:
                if isinstance(want[name], h5py.Dataset):
                    assert np.array_equal(got[name][()], want[name][()]), name


def _gene_table(name: str) -> Callable[[Env], list[str]]:
    return lambda env: ["gene-table", env.path(name), "-o", env.path("out.txt")]


def _create_data(fasta: str, annotation: str) -> Callable[[Env], list[str]]:
    return lambda env: [
        "create-data", "-R", env.path(fasta), "-A", env.path(annotation), "-o", env.path("data"),
        "--biotype", "all", "--split", "random", "--no-progress",
    ]


def _predict(fasta: str) -> Callable[[Env], list[str]]:
    return lambda env: [
        "predict", "-R", env.path(fasta), "-m", str(env.model), "--bed", env.path("sites.bed"),
        "--no-progress", "--device", "cpu",
    ]


def _reply(line: bytes) -> Callable[[Env], bytes]:
    return lambda env: line


ERROR = "exit 2, one-line error naming {}"
PASS = "exit 0, every record written; {}"

CASES: list[Case] = [
    # ---- annotate: the VCF
    Case("truncated-bgzip", "bgzipped VCF cut in the middle of a block", "annotate", "error",
         ERROR.format("the file (truncated BGZF)"), lambda e: e.annotate(vcf="truncated.vcf.gz"),
         ("truncated.vcf.gz",)),
    Case("bcf-plain-gzip", "BCF compressed with gzip instead of BGZF", "annotate", "error",
         ERROR.format("the file"), lambda e: e.annotate(vcf="gzip-not-bgzf.bcf"), ("gzip-not-bgzf.bcf",)),
    Case("bcf-broken-header", "BCF whose header-length field is wrong", "annotate", "error",
         ERROR.format("the file"), lambda e: e.annotate(vcf="bad-header-length.bcf"), ("bad-header-length.bcf",)),
    Case("vcf-crlf", "VCF with Windows (CRLF) line ends", "annotate", "pass",
         PASS.format("all scored, no CR in the output"), lambda e: e.annotate(vcf="crlf.vcf"),
         ("scored 3",), vcf="crlf.vcf", check=_check_all_scored_without_cr),
    Case("vcf-no-fileformat", "VCF without the ##fileformat line", "annotate", "error",
         ERROR.format("the file"), lambda e: e.annotate(vcf="no-fileformat.vcf"), ("no-fileformat.vcf",)),
    Case("vcf-no-chrom-line", "VCF without the #CHROM header line", "annotate", "error",
         ERROR.format("the file"), lambda e: e.annotate(vcf="no-chrom-line.vcf"), ("no-chrom-line.vcf",)),
    Case("pos-non-numeric", "POS `12x4`", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(vcf="non-numeric-pos.vcf"), ("non-numeric-pos.vcf:7:",)),
    Case("pos-zero-and-past-end", "POS 0, POS past the contig end, POS 10 (window past the start)",
         "annotate", "pass", PASS.format("counted as no gene / too close to the contig end"),
         lambda e: e.annotate(vcf="pos-zero-and-past-end.vcf"),
         ("no overlapping gene: 2", "too close to the contig end: 1", "scored 1"), vcf="pos-zero-and-past-end.vcf"),
    Case("empty-alleles", "empty REF column, empty ALT column", "annotate", "pass",
         PASS.format("counted as REF mismatch / no scorable ALT"), lambda e: e.annotate(vcf="empty-alleles.vcf"),
         ("REF does not match the FASTA: 1", "no scorable ALT (symbolic, *, . or -): 1"), vcf="empty-alleles.vcf"),
    Case("lowercase-alleles", "lowercase REF; lowercase ALT", "annotate", "pass",
         PASS.format("lowercase REF is a REF mismatch (as SpliceAI), lowercase ALT is scored"),
         lambda e: e.annotate(vcf="lowercase-alleles.vcf"), ("REF does not match the FASTA: 1", "scored 1"),
         vcf="lowercase-alleles.vcf"),
    Case("iupac-alleles", "IUPAC REF `R`, ALT `Y` and `N`", "annotate", "pass",
         PASS.format("IUPAC REF is a REF mismatch; IUPAC/N ALTs are scored"),
         lambda e: e.annotate(vcf="iupac-alleles.vcf"), ("REF does not match the FASTA: 1", "scored 2"),
         vcf="iupac-alleles.vcf"),
    Case("n-ref", "REF `N` where the genome has a base", "annotate", "pass", PASS.format("counted as REF mismatch"),
         lambda e: e.annotate(vcf="n-ref.vcf"), ("REF does not match the FASTA: 1", "scored 1"), vcf="n-ref.vcf"),
    Case("unsorted-duplicates", "unsorted records, the same record three times", "annotate", "pass",
         PASS.format("in input order, duplicates kept"), lambda e: e.annotate(vcf="unsorted-duplicates.vcf"),
         ("records read 7, written 7", "scored 6"), vcf="unsorted-duplicates.vcf"),
    Case("ten-thousand-alts", "two records with 10,000 ALTs each (made at test time)", "annotate", "pass",
         PASS.format("one passed through whole, one scored (20,000 entries)"),
         lambda e: e.annotate(vcf="many-alts.vcf"), ("contig not in FASTA: 1", "scored 2"),
         vcf="many-alts.vcf", prepare=_ten_thousand_alts, check=_check_twenty_thousand_entries),
    Case("megabase-ref", "a 1 Mb REF (made at test time)", "annotate", "pass",
         PASS.format("counted as REF mismatch (it runs past the contig)"),
         lambda e: e.annotate(vcf="megabase-ref.vcf"), ("REF does not match the FASTA: 1", "scored 1"),
         vcf="megabase-ref.vcf", prepare=_megabase_ref),
    Case("very-long-line", "a 5 MB INFO field (made at test time)", "annotate", "pass",
         PASS.format("the line kept whole"), lambda e: e.annotate(vcf="long-line.vcf"), ("scored 2",),
         vcf="long-line.vcf", prepare=_long_line),
    Case("vcf-without-chr", "VCF names contigs `1`, FASTA and table `chr1`", "annotate", "pass",
         PASS.format("names matched, all scored, output keeps `1`"), lambda e: e.annotate(vcf="vcf-without-chr.vcf"),
         ("scored 3",), vcf="vcf-without-chr.vcf"),
    Case("table-without-chr", "table names contigs `1`, VCF and FASTA `chr1`", "annotate", "pass",
         PASS.format("names matched, all scored"), lambda e: e.annotate(annotation="genes-without-chr.txt"),
         ("scored 3",), vcf="good.vcf"),
    Case("mito-names", "VCF and table `chrM`, FASTA `MT`", "annotate", "pass",
         PASS.format("names matched, scored"), lambda e: e.annotate(vcf="mito-names.vcf"),
         ("scored 2",), vcf="mito-names.vcf"),
    Case("contig-not-in-fasta", "a contig the table has and the FASTA lacks", "annotate", "pass",
         PASS.format("counted as contig not in FASTA"), lambda e: e.annotate(vcf="contig-not-in-fasta.vcf"),
         ("contig not in FASTA: 1", "scored 1"), vcf="contig-not-in-fasta.vcf"),
    Case("undeclared-contig", "a record on a contig missing from the header", "annotate", "pass",
         PASS.format("counted as contig not in FASTA"), lambda e: e.annotate(vcf="undeclared-contig.vcf"),
         ("contig not in FASTA: 1",), vcf="undeclared-contig.vcf"),
    Case("header-only", "VCF with a header and no records", "annotate", "pass", PASS.format("a header-only output"),
         lambda e: e.annotate(vcf="header-only.vcf"), ("records read 0, written 0",), vcf="header-only.vcf"),
    Case("empty-vcf", "empty file", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(vcf="empty.vcf"), ("empty.vcf",)),
    Case("garbage-vcf", "4 KiB of random bytes", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(vcf="garbage.vcf"), ("garbage.vcf",)),
    Case("nul-bytes", "a NUL byte inside INFO", "annotate", "pass",
         PASS.format("htslib ends the field at the NUL; the record is scored"),
         lambda e: e.annotate(vcf="nul-bytes.vcf"), ("scored 2",), vcf="nul-bytes.vcf"),
    Case("non-utf8", "bytes that are not UTF-8 in INFO, in an ALT, in CHROM", "annotate", "pass",
         PASS.format("bytes kept; the odd ALT/CHROM counted as unscorable / contig not in FASTA"),
         lambda e: e.annotate(vcf="non-utf8.vcf"),
         ("scored 1", "contig not in FASTA: 1", "no scorable ALT (symbolic, *, . or -): 1"), vcf="non-utf8.vcf"),
    Case("bad-info", "INFO `;;=;==x;`", "annotate", "pass", PASS.format("scored"),
         lambda e: e.annotate(vcf="bad-info.vcf"), ("scored 2",), vcf="bad-info.vcf"),
    Case("existing-spliceai", "input already has a SpliceAI INFO field and header line", "annotate", "pass",
         PASS.format("header line replaced by SpliceAI's; scored records get the new entry, "
                     "unscored ones keep theirs"), lambda e: e.annotate(vcf="existing-spliceai.vcf"),
         ("scored 1",), vcf="existing-spliceai.vcf", check=_check_header_replaced),
    Case("too-few-columns", "a record with 4 columns", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(vcf="too-few-columns.vcf"), ("too-few-columns.vcf:7:",)),
    Case("truncated-last-line", "the file ends inside a record", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(vcf="truncated-last-line.vcf"), ("truncated-last-line.vcf:7:",)),
    Case("plain-gzip-vcf", "VCF compressed with gzip, not bgzip", "annotate", "pass",
         PASS.format("read as bcftools reads it; all scored"), lambda e: e.annotate(vcf="plain-gzip.vcf.gz"),
         ("scored 3",), vcf="plain-gzip.vcf.gz"),
    Case("symlink-loop", "input is a symbolic link loop", "annotate", "error", ERROR.format("the link"),
         lambda e: e.annotate(vcf="loop-a.vcf"), ("loop-a.vcf", "symbolic link"), prepare=_symlink_loop),
    Case("input-directory", "a directory where the VCF should be", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(vcf="dir.vcf"), ("dir.vcf", "directory"), prepare=_directory("dir.vcf")),
    # ---- annotate: the FASTA
    Case("fasta-crlf", "FASTA with Windows (CRLF) line ends", "annotate", "pass",
         PASS.format("scored as with LF line ends"), lambda e: e.annotate(fasta="crlf.fa"), ("scored 3",),
         vcf="good.vcf"),
    Case("fasta-stale-fai", "FASTA rewrapped after its .fai was made", "annotate", "error",
         ERROR.format("the .fai and the FASTA"), lambda e: e.annotate(fasta="stale.fa"),
         ("stale.fa.fai:1:", "stale.fa")),
    Case("fasta-gzip", "FASTA compressed with gzip, not bgzip", "annotate", "error",
         ERROR.format("the file, with the bgzip fix"), lambda e: e.annotate(fasta="gzip.fa.gz"),
         ("gzip.fa.gz", "bgzip")),
    Case("fasta-empty", "empty FASTA", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(fasta="empty.fa"), ("empty.fa",)),
    Case("fasta-garbage", "2 KiB of random bytes as FASTA", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(fasta="garbage.fa"), ("garbage.fa",)),
    Case("fasta-directory", "a directory where the FASTA should be", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(fasta="dir.fa"), ("dir.fa", "directory"), prepare=_directory("dir.fa")),
    Case("fasta-duplicate-contig", "FASTA with chr1 twice", "annotate", "pass",
         PASS.format("the first chr1 is used (as htslib's faidx does)"),
         lambda e: e.annotate(fasta="duplicate-contigs.fa"), ("scored 3",), vcf="good.vcf"),
    # ---- annotate: the annotation
    Case("table-negative", "gene table with TX_START -200", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(annotation="negative-coordinates.txt"), ("negative-coordinates.txt:2:",)),
    Case("table-non-numeric", "gene table with TX_END `2,8k`", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(annotation="non-numeric.txt"), ("non-numeric.txt:2:",)),
    Case("table-empty", "empty gene table", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(annotation="empty.txt"), ("empty.txt",)),
    Case("gtf-negative", "GTF exon starting at -1201", "annotate", "error", ERROR.format("file and line"),
         lambda e: e.annotate(annotation="negative-coordinates.gtf"), ("negative-coordinates.gtf:2:",)),
    Case("gtf-missing-attributes", "GTF exons without gene_id/transcript_id", "annotate", "error",
         ERROR.format("the file: no transcripts with exons"), lambda e: e.annotate(annotation="missing-attributes.gtf"),
         ("missing-attributes.gtf: no transcripts with exons found",)),
    Case("gtf-as-annotation", "GTF with one transcript", "annotate", "pass", PASS.format("scored"),
         lambda e: e.annotate(annotation="genes.gtf"), ("scored 3",), vcf="good.vcf"),
    Case("annotation-directory", "a directory where the annotation should be", "annotate", "error",
         ERROR.format("it"), lambda e: e.annotate(annotation="dir.gtf"), ("dir.gtf",), prepare=_directory("dir.gtf")),
    Case("annotation-device", "-A is /dev/zero (endless bytes)", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(annotation="zero.txt"), ("zero.txt", "device"), prepare=_device("zero.txt")),
    Case("input-device", "-I is /dev/zero (endless bytes)", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(vcf="zero.vcf"), ("zero.vcf",), prepare=_device("zero.vcf")),
    Case("fasta-device", "-R is /dev/zero (endless bytes)", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(fasta="zero.fa"), ("zero.fa",), prepare=_device("zero.fa")),
    # ---- annotate: output and model
    Case("output-directory", "-O names a directory", "annotate", "error", ERROR.format("it"),
         lambda e: e.annotate(out="outdir.vcf"), ("outdir.vcf",), output="outdir.vcf",
         prepare=_directory("outdir.vcf")),
    Case("output-parent-is-file", "-O under a regular file", "annotate", "error", ERROR.format("the path"),
         lambda e: e.annotate(out="good.vcf/out.vcf"), ("good.vcf/out.vcf",), output="good.vcf/out.vcf"),
    Case("pickle-checkpoint", "a .pt whose unpickling would run `touch`", "annotate", "error",
         ERROR.format("the file; no code runs"), lambda e: e.annotate(model="evil.pt"), ("evil.pt", "refused")),
    Case("garbage-safetensors", "random bytes as .safetensors", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(model="garbage.safetensors"), ("garbage.safetensors",)),
    Case("corrupt-h5", "HDF5 signature followed by random bytes", "annotate", "error", ERROR.format("the file"),
         lambda e: e.annotate(model="not-keras.h5"), ("not-keras.h5",)),
    # ---- gene-table
    Case("gene-table-negative", "GTF exon starting at -1201", "gene-table", "error", ERROR.format("file and line"),
         _gene_table("negative-coordinates.gtf"), ("negative-coordinates.gtf:2:",), output="out.txt"),
    Case("gene-table-garbage", "random bytes as GTF", "gene-table", "error", ERROR.format("the file"),
         _gene_table("garbage.gtf"), ("garbage.gtf",), output="out.txt"),
    Case("gene-table-start-after-end", "GTF exon with start > end", "gene-table", "ok",
         "exit 0, the exon skipped and counted in a warning", _gene_table("start-after-end.gtf"),
         ("skipped features with end < start (1)",), output="out.txt", check=_check_rows(1)),
    Case("gene-table-missing-attributes", "GTF exons without gene_id/transcript_id", "gene-table", "error",
         ERROR.format("the file: no transcripts with exons"), _gene_table("missing-attributes.gtf"),
         ("missing-attributes.gtf: no transcripts with exons found", "exons without a transcript (3)"),
         output="out.txt"),
    Case("gene-table-device", "the GTF is /dev/zero (endless bytes)", "gene-table", "error", ERROR.format("it"),
         _gene_table("zero.gtf"), ("zero.gtf", "device"), output="out.txt", prepare=_device("zero.gtf")),
    # ---- create-data and predict
    Case("create-data-negative", "GTF exon starting at -1201", "create-data", "error", ERROR.format("file and line"),
         _create_data("genome.fa", "negative-coordinates.gtf"), ("negative-coordinates.gtf:2:",), output="data"),
    Case("create-data-gzip-fasta", "FASTA compressed with gzip, not bgzip", "create-data", "ok",
         "exit 0, read (create-data streams the FASTA itself)", _create_data("gzip.fa.gz", "genes.gtf"),
         ("wrote 1 windows",), output="data", check=_check_datasets),
    Case("create-data-crlf-fasta", "FASTA with Windows (CRLF) line ends", "create-data", "ok",
         "exit 0, the same windows as with LF line ends", _create_data("crlf.fa", "genes.gtf"),
         ("wrote 1 windows",), output="data", check=_check_datasets),
    Case("create-data-garbage-fasta", "random bytes as FASTA", "create-data", "error", ERROR.format("the file"),
         _create_data("garbage.fa", "genes.gtf"), ("garbage.fa",), output="data"),
    Case("create-data-empty-gtf", "empty GTF", "create-data", "error", ERROR.format("the file"),
         _create_data("genome.fa", "empty.gtf"), ("empty.gtf",), output="data"),
    Case("predict-empty-fasta", "empty FASTA", "predict", "error", ERROR.format("the file"),
         _predict("empty.fa"), ("empty.fa",), output="sites.bed"),
    Case("predict-garbage-fasta", "random bytes as FASTA", "predict", "error", ERROR.format("the file"),
         _predict("garbage.fa"), ("garbage.fa",), output="sites.bed"),
    # ---- serve (one request line each; the server must answer and stay up)
    Case("serve-garbage-line", "random bytes", "serve", "reply", "an error reply, the server goes on",
         _reply(random.Random(9).randbytes(300).replace(b"\n", b" ")), ("not valid JSON",)),
    Case("serve-nul-bytes", "JSON with a NUL byte in `chrom`", "serve", "reply", "an error reply, the server goes on",
         _reply(b'{"id": 1, "chrom": "chr\x001", "pos": 1000, "ref": "A", "alt": "G"}'), ("not valid JSON",)),
    Case("serve-deep-nesting", "JSON nested 100,000 deep", "serve", "reply", "an error reply, the server goes on",
         _reply(b"[" * 100_000 + b"]" * 100_000), ("nested",)),
    Case("serve-long-line", "a 3 MiB request line", "serve", "reply", "an error reply, the server goes on",
         _reply(b'{"id": 2, "chrom": "' + b"c" * (3 << 20) + b'"}'), ("longer than",)),
    Case("serve-huge-pos", "pos 10**30", "serve", "reply", "an answer: unscored, no gene; the server goes on",
         _reply(b'{"id": 3, "chrom": "chr1", "pos": 1000000000000000000000000000000, "ref": "A", "alt": "G"}'),
         ('"reason": "no overlapping gene"',)),
]


def render(argument: str, env: Env) -> str:
    """An argument as the README shows it (corpus-relative names)."""
    text = argument.replace(str(env.directory) + os.sep, "")
    return "tiny.safetensors" if text == str(env.model) else text


def readme() -> str:
    env = Env(Path("/corpus"), Path("/model/tiny.safetensors"))
    lines = [
        "# Hostile inputs",
        "",
        "Bad and odd inputs and what spliceannot does with each. Generated from",
        "`tests/hostile_cases.py` (`python tests/hostile_cases.py --write-readme`); each row is",
        "a case of `tests/test_hostile.py`. `genome.fa` holds `chr1` (3,000 bp) and `MT` (600 bp);",
        "`genes.txt` has transcripts on `chr1`, `chr9` (absent from the FASTA) and `chrM`;",
        "`tiny.safetensors` is the tests' seeded flank-80 model. Inputs marked",
        "\"made at test time\" (and directories, symbolic links) are not committed.",
        "",
        "Outcomes: **error** = exit 2, exactly one line on stderr naming the file (and line), no",
        "traceback, nothing at the output path; **pass** = exit 0, every input record in the output",
        "in order, unscored ones counted in the one-line summary; **ok** = exit 0 with the stated",
        "result; **reply** = `spliceannot serve` answers the line and keeps serving.",
        "",
        "| case | input | command | expected outcome |",
        "| --- | --- | --- | --- |",
    ]
    for case in CASES:
        built = case.build(env)
        if isinstance(built, bytes):
            shown = f"`spliceannot serve -R genome.fa -A genes.txt -m tiny.safetensors` + {len(built):,}-byte line"
        else:
            shown = "`spliceannot " + " ".join(render(a, env) for a in built) + "`"
        outcome = f"**{case.outcome}**: {case.expected}"
        if case.mentions and any(case.mentions):
            outcome += " (" + ", ".join(f"`{m.strip()}`" for m in case.mentions if m) + ")"
        lines.append(f"| {case.name} | {case.input} | {shown} | {outcome} |")
    return "\n".join(lines) + "\n"




if __name__ == "__main__":
    if "--write-data" in sys.argv:
        write_corpus()
    if "--write-readme" in sys.argv:
        (CORPUS / "README.md").write_text(readme())
    if not {"--write-data", "--write-readme"} & set(sys.argv):
        print(__doc__)
