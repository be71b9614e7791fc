#!/usr/bin/env python3
"""Build the example data in examples/ from the Debian package augustus-doc.

Writes, next to this script (or into --outdir):

  chr16_region.fa.gz (+ .fai, .gzi)  GRCh38 chr16:1-397,118 with 1..186,963 as N
  chr16_genes.gtf.gz                 RefSeq transcripts of the region, chr16 coords
  variants.vcf (+ .vcf.gz, .tbi)     ~250 synthetic variants, seed SEED_MAIN
  variants_heldout.vcf (+ .vcf.gz, .tbi)  ~120 more, seed SEED_HELDOUT, disjoint

The variants are synthetic: positions and alleles are drawn with a seeded
random generator and placed on the real sequence; they are not observed
variants. Only numpy, pysam and the standard library are used, and the
output is byte-for-byte reproducible.

Usage:
  python examples/make_example.py [AUGUSTUS_DOC_DIR] [--outdir DIR]

AUGUSTUS_DOC_DIR is the unpacked usr/share/doc/augustus directory; without
it scripts/fetch-augustus-doc.sh is run to obtain it (cached).
"""

from __future__ import annotations

import argparse
import gzip
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pysam

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CONTIG = "chr16"
REGION_START = 186_964  # 1-based, first base of hg38.fa in augustus-doc
REGION_END = 397_118  # 1-based, inclusive; also the length of the padded contig
OFFSET = REGION_START - 1  # add to region-relative 1-based coordinates
LINE_WIDTH = 60

SEED_MAIN = 16_186_964
SEED_HELDOUT = 16_397_118

# Canonical GENCODE V24 transcripts of SpliceAI 1.3.1's grch38 annotation table
# (spliceai/annotations/grch38.txt) that lie on the example contig, copied here
# so this script needs no SpliceAI install. TX_START is 0-based as in the
# table; SpliceAI scores a variant at POS when TX_START < POS <= TX_END.
GENES = [
    # name, strand, tx_start, tx_end
    ("LUC7L", "-", 188_968, 229_450),
    ("FAM234A", "+", 234_545, 266_125),
    ("AC004754.3", "+", 249_546, 269_943),
    ("RGS11", "-", 268_300, 275_929),
    ("ARHGDIG", "+", 280_605, 283_010),
    ("PDIA2", "+", 283_151, 287_215),
    ("AXIN1", "-", 287_439, 352_659),
    ("MRPL28", "-", 367_383, 370_527),
    ("TMEM8A", "-", 370_772, 381_982),
]

# An absent contig (not in the FASTA) for one record, placed inside TP53 so
# that the annotation table has a gene there (GRCh38 chr17 length).
ABSENT_CONTIG = ("chr17", 83_257_441, 7_676_000, "C", "T")

BASES = "ACGT"
MIN_SPACING = 25  # minimum distance between any two chosen positions
NEAR_BOUNDARY = 60
NEAR_FRACTION = 0.25  # drawn near a boundary; uniform draws add ~7% more

# Regular (scorable) variant mix, counts per set.
MIX_MAIN = {"snv": 148, "del": 37, "ins": 30, "multi": 15, "mnv": 7}
MIX_HELDOUT = {"snv": 72, "del": 17, "ins": 14, "multi": 7, "mnv": 4}


# ----------------------------------------------------------------------------
# Inputs


def find_doc_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    script = REPO / "scripts" / "fetch-augustus-doc.sh"
    out = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def find_file(doc: Path, candidates: list[str]) -> Path:
    """First existing file among candidates, also trying a .gz suffix."""
    for rel in candidates:
        for suffix in ("", ".gz"):
            p = doc / (rel + suffix)
            if p.is_file():
                return p
    raise SystemExit(f"make_example.py: none of {candidates} (or .gz) found under {doc}")


def open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="ascii")
    return open(path, encoding="ascii")


def read_region_fasta(path: Path) -> str:
    with open_text(path) as fh:
        header = fh.readline().rstrip("\n")
        seq = "".join(line.strip() for line in fh)
    fields = header[1:].split()
    expect = [CONTIG, str(REGION_START), str(REGION_END), "+"]
    if fields != expect:
        raise SystemExit(f"make_example.py: unexpected header {header!r} in {path}")
    if len(seq) != REGION_END - REGION_START + 1:
        raise SystemExit(f"make_example.py: {path} holds {len(seq)} bases, expected "
                         f"{REGION_END - REGION_START + 1}")
    if set(seq) - set("ACGTacgt"):
        raise SystemExit(f"make_example.py: unexpected characters in {path}: "
                         f"{sorted(set(seq) - set('ACGTacgt'))}")
    return seq


def read_gtf(path: Path) -> list[list[str]]:
    rows = []
    with open_text(path) as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) != 9:
                raise SystemExit(f"make_example.py: bad GTF line in {path}: {line!r}")
            rows.append(f)
    return rows


# ----------------------------------------------------------------------------
# Outputs: FASTA and GTF


def write_fasta(seq_region: str, out: Path) -> str:
    """Write the N-padded contig as bgzipped FASTA with .fai/.gzi; return it."""
    contig = "N" * OFFSET + seq_region
    assert len(contig) == REGION_END
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        plain = Path(tmp) / "plain.fa"
        with open(plain, "w", encoding="ascii", newline="\n") as fh:
            fh.write(f">{CONTIG}\n")
            for i in range(0, len(contig), LINE_WIDTH):
                fh.write(contig[i:i + LINE_WIDTH] + "\n")
        for p in (out, Path(str(out) + ".fai"), Path(str(out) + ".gzi")):
            if p.exists():
                p.unlink()
        pysam.tabix_compress(str(plain), str(out), force=True)
    pysam.faidx(str(out))
    return contig


def gtf_attr_key(feature: str) -> int:
    return {"exon": 0, "CDS": 1, "start_codon": 2, "stop_codon": 3}.get(feature, 4)


def write_gtf(rows: list[list[str]], out: Path) -> list[list]:
    shifted = []
    for i, f in enumerate(rows):
        if f[0] != CONTIG:
            raise SystemExit(f"make_example.py: GTF row on {f[0]!r}, expected {CONTIG}")
        start, end = int(f[3]) + OFFSET, int(f[4]) + OFFSET
        shifted.append((start, end, gtf_attr_key(f[2]), i,
                        [f[0], f[1], f[2], str(start), str(end)] + f[5:]))
    shifted.sort(key=lambda t: t[:4])
    text = "".join("\t".join(t[4]) + "\n" for t in shifted)
    with open(out, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(text.encode("ascii"))
    return [t[4] for t in shifted]


def splice_boundaries(gtf_rows: list[list]) -> np.ndarray:
    """1-based positions of internal exon boundaries (last/first exon base)."""
    exons: dict[str, list[tuple[int, int]]] = {}
    for f in gtf_rows:
        if f[2] != "exon":
            continue
        tid = f[8].split('transcript_id "', 1)[1].split('"', 1)[0]
        exons.setdefault(tid, []).append((int(f[3]), int(f[4])))
    out = set()
    for ex in exons.values():
        ex.sort()
        for j, (s, e) in enumerate(ex):
            if j > 0:
                out.add(s)
            if j < len(ex) - 1:
                out.add(e)
    return np.array(sorted(out), dtype=np.int64)


# ----------------------------------------------------------------------------
# Variants


def in_gene(pos: int) -> bool:
    return any(s < pos <= e for _, _, s, e in GENES)


def merged_gene_intervals() -> list[tuple[int, int]]:
    """Merged 1-based inclusive intervals of the gene table rows."""
    iv = sorted((s + 1, e) for _, _, s, e in GENES)
    merged = [list(iv[0])]
    for s, e in iv[1:]:
        if s <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [tuple(m) for m in merged]


class Picker:
    """Draws distinct, well-spaced positions inside the genes."""

    def __init__(self, rng: np.random.Generator, boundaries: np.ndarray, taken: set[int]):
        self.rng = rng
        self.boundaries = np.array([b for b in boundaries if in_gene(int(b))], dtype=np.int64)
        self.taken = taken  # shared across sets so that they stay disjoint
        self.intervals = merged_gene_intervals()
        self.lengths = np.array([e - s + 1 for s, e in self.intervals], dtype=np.int64)

    def ok(self, pos: int, room: int = 0) -> bool:
        if not in_gene(pos) or not in_gene(pos + room):
            return False
        return all(abs(pos - t) >= MIN_SPACING + room for t in self.taken)

    def take(self, pos: int) -> int:
        self.taken.add(pos)
        return pos

    def near_boundary(self, room: int = 0) -> int:
        while True:
            b = int(self.boundaries[self.rng.integers(len(self.boundaries))])
            pos = b + int(self.rng.integers(-NEAR_BOUNDARY, NEAR_BOUNDARY + 1))
            if self.ok(pos, room):
                return self.take(pos)

    def uniform(self, room: int = 0) -> int:
        total = int(self.lengths.sum())
        while True:
            k = int(self.rng.integers(total))
            for (s, _), n in zip(self.intervals, self.lengths):
                if k < n:
                    pos = s + k
                    break
                k -= int(n)
            if self.ok(pos, room):
                return self.take(pos)


def other_base(rng: np.random.Generator, base: str, exclude: tuple[str, ...] = ()) -> str:
    choices = [b for b in BASES if b != base.upper() and b not in exclude]
    return choices[int(rng.integers(len(choices)))]


def random_bases(rng: np.random.Generator, n: int) -> str:
    return "".join(BASES[int(i)] for i in rng.integers(4, size=n))


def ref_at(contig: str, pos: int, n: int = 1) -> str:
    """Upper-cased reference of n bases starting at 1-based pos."""
    return contig[pos - 1:pos - 1 + n].upper()


def make_regular(kind: str, pos: int, contig: str, rng: np.random.Generator) -> tuple[str, str, str]:
    """Return (REF, ALT, label) for a scorable variant of the given kind at pos."""
    if kind == "snv":
        ref = ref_at(contig, pos)
        return ref, other_base(rng, ref), "snv"
    if kind == "del":
        n = int(rng.integers(2, 13))
        ref = ref_at(contig, pos, n)
        return ref, ref[0], "del"
    if kind == "ins":
        ref = ref_at(contig, pos)
        return ref, ref + random_bases(rng, int(rng.integers(1, 10))), "ins"
    if kind == "multi":
        if rng.random() < 0.5:
            ref = ref_at(contig, pos)
            a1 = other_base(rng, ref)
            a2 = other_base(rng, ref, exclude=(a1,))
            return ref, f"{a1},{a2}", "multi_snv_snv"
        n = int(rng.integers(2, 7))
        ref = ref_at(contig, pos, n)
        snv = other_base(rng, ref[0]) + ref[1:]
        return ref, f"{snv},{ref[0]}", "multi_snv_del"
    if kind == "mnv":
        if rng.random() < 0.5:  # equal-length MNV
            n = int(rng.integers(2, 4))
            ref = ref_at(contig, pos, n)
            alt = "".join(other_base(rng, b) for b in ref)
            return ref, alt, "mnv"
        n = int(rng.integers(2, 5))
        ref = ref_at(contig, pos, n)
        while True:
            m = int(rng.integers(2, 5))
            alt = random_bases(rng, m)
            if m != n and alt != ref:
                return ref, alt, "complex"
    raise ValueError(kind)


def room_for(kind: str) -> int:
    return {"del": 12, "multi": 6, "mnv": 4}.get(kind, 0)


def make_set(contig: str, boundaries: np.ndarray, seed: int, mix: dict[str, int],
             taken: set[int], heldout: bool) -> list[dict]:
    rng = np.random.default_rng(seed)
    picker = Picker(rng, boundaries, taken)
    kinds = [k for k, n in mix.items() for _ in range(n)]
    kinds = [kinds[int(i)] for i in rng.permutation(len(kinds))]
    n_near = round(NEAR_FRACTION * len(kinds))
    near_flags = np.zeros(len(kinds), dtype=bool)
    near_flags[rng.choice(len(kinds), size=n_near, replace=False)] = True

    records = []
    for kind, near in zip(kinds, near_flags):
        room = room_for(kind)
        pos = picker.near_boundary(room) if near else picker.uniform(room)
        ref, alt, label = make_regular(kind, pos, contig, rng)
        records.append(dict(chrom=CONTIG, pos=pos, ref=ref, alt=alt, label=label))

    def special(pos: int, ref: str, alt: str, label: str, chrom: str = CONTIG) -> None:
        taken.add(pos)
        records.append(dict(chrom=chrom, pos=pos, ref=ref, alt=alt, label=label))

    # Records that SpliceAI 1.3.1 does not score (or handles specially).
    if not heldout:
        special(100_000, ref_at(contig, 100_000), "A", "no_gene_N_region")
        special(360_000, ref_at(contig, 360_000), other_base(rng, ref_at(contig, 360_000)),
                "no_gene_intergenic")
        special(392_000, ref_at(contig, 392_000), other_base(rng, ref_at(contig, 392_000)),
                "no_gene_after_genes")
        p = picker.uniform()  # uppercase REF that differs from the FASTA
        r = ref_at(contig, p)
        wrong = other_base(rng, r)
        special(p, wrong, other_base(rng, r, exclude=(wrong,)), "ref_mismatch_base")
        p = picker.uniform()  # right base but lowercase: SpliceAI compares case-sensitively
        r = ref_at(contig, p)
        special(p, r.lower(), other_base(rng, r), "ref_mismatch_lowercase")
        p = picker.uniform(room=4)  # deletion whose third REF base is wrong
        r = ref_at(contig, p, 4)
        special(p, r[:2] + other_base(rng, r[2]) + r[3], r[0], "ref_mismatch_deletion")
        p = picker.uniform()
        special(p, ref_at(contig, p), "<DEL>", "symbolic_alt")
        p = picker.uniform()
        special(p, ref_at(contig, p), "*", "star_alt")
        p = picker.uniform()
        r = ref_at(contig, p)
        special(p, r, other_base(rng, r).lower(), "lowercase_alt")
        special(392_500, ref_at(contig, 392_500), other_base(rng, ref_at(contig, 392_500)),
                "near_chrom_end")
        special(396_800, ref_at(contig, 396_800), other_base(rng, ref_at(contig, 396_800)),
                "near_chrom_end")
        p = picker.uniform(room=120)
        r = ref_at(contig, p, 120)
        special(p, r, r[0], "long_deletion_120")
        chrom, _, apos, aref, aalt = ABSENT_CONTIG
        special(apos, aref, aalt, "absent_contig", chrom=chrom)
    else:
        special(150_000, ref_at(contig, 150_000), "G", "no_gene_N_region")
        p = picker.uniform()
        r = ref_at(contig, p)
        special(p, r.lower(), other_base(rng, r), "ref_mismatch_lowercase")
        p = picker.uniform()
        special(p, ref_at(contig, p), "*", "star_alt")
        p = picker.uniform()
        r = ref_at(contig, p)
        special(p, r, other_base(rng, r).lower(), "lowercase_alt")
        special(394_000, ref_at(contig, 394_000), other_base(rng, ref_at(contig, 394_000)),
                "near_chrom_end")
        p = picker.uniform(room=200)
        r = ref_at(contig, p, 200)
        special(p, r, r[0], "long_deletion_200")

    chrom_rank = {CONTIG: 0, ABSENT_CONTIG[0]: 1}
    records.sort(key=lambda r: (chrom_rank[r["chrom"]], r["pos"]))
    prefix = "h" if heldout else "v"
    for i, r in enumerate(records, 1):
        r["id"] = f"{prefix}{i}"
    return records


def vcf_text(records: list[dict], with_absent: bool) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        "##reference=GRCh38",
        f"##contig=<ID={CONTIG},length={REGION_END}>",
    ]
    if with_absent:
        lines.append(f"##contig=<ID={ABSENT_CONTIG[0]},length={ABSENT_CONTIG[1]}>")
    lines += [
        '##ALT=<ID=DEL,Description="Deletion">',
        "##source=spliceannot examples/make_example.py (synthetic variants on real GRCh38 sequence)",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    for r in records:
        lines.append(f"{r['chrom']}\t{r['pos']}\t{r['id']}\t{r['ref']}\t{r['alt']}\t.\tPASS\t.")
    return "\n".join(lines) + "\n"


def write_vcf(records: list[dict], out_plain: Path, with_absent: bool) -> None:
    out_plain.write_text(vcf_text(records, with_absent), encoding="ascii")
    gz = Path(str(out_plain) + ".gz")
    pysam.tabix_compress(str(out_plain), str(gz), force=True)
    pysam.tabix_index(str(gz), preset="vcf", force=True)


# ----------------------------------------------------------------------------
# Checks


def check_outputs(outdir: Path, seq_region: str, records_sets: list[list[dict]]) -> None:
    fa = pysam.FastaFile(str(outdir / "chr16_region.fa.gz"))
    assert tuple(fa.references) == (CONTIG,), fa.references
    assert fa.get_reference_length(CONTIG) == REGION_END
    got = fa.fetch(CONTIG, REGION_START - 1, 186_990)
    assert got == seq_region[:186_990 - REGION_START + 1], got
    assert fa.fetch(CONTIG, REGION_END - 30, REGION_END) == seq_region[-30:]
    assert set(fa.fetch(CONTIG, 0, OFFSET)) == {"N"}
    for records in records_sets:
        for r in records:
            if r["chrom"] != CONTIG:
                continue
            fasta_ref = fa.fetch(CONTIG, r["pos"] - 1, r["pos"] - 1 + len(r["ref"])).upper()
            if r["label"].startswith("ref_mismatch"):
                assert fasta_ref != r["ref"], r
            else:
                assert fasta_ref == r["ref"], (r, fasta_ref)
    fa.close()
    for name in ("variants.vcf.gz", "variants_heldout.vcf.gz"):
        with pysam.VariantFile(str(outdir / name)) as vf:
            n = sum(1 for _ in vf)
        with pysam.VariantFile(str(outdir / name)) as vf:
            n_region = sum(1 for _ in vf.fetch(CONTIG, 0, REGION_END))
        print(f"  {name}: {n} records ({n_region} on {CONTIG} via the tabix index)", file=sys.stderr)


def summarize(name: str, records: list[dict], boundaries: np.ndarray) -> None:
    from collections import Counter
    c = Counter(r["label"] for r in records)
    near = sum(1 for r in records if r["chrom"] == CONTIG
               and np.min(np.abs(boundaries - r["pos"])) <= NEAR_BOUNDARY)
    print(f"  {name}: {len(records)} records, {near} within {NEAR_BOUNDARY} bp of an exon "
          f"boundary; " + ", ".join(f"{k}={v}" for k, v in sorted(c.items())), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("doc_dir", nargs="?", help="unpacked usr/share/doc/augustus directory "
                    "(default: run scripts/fetch-augustus-doc.sh)")
    ap.add_argument("--outdir", default=str(HERE), help="output directory (default: examples/)")
    args = ap.parse_args(argv)

    doc = find_doc_dir(args.doc_dir)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fasta_in = find_file(doc, ["tutorial-cgp/data/genomes/hg38.fa", "tutorial-cgp/genomes/hg38.fa"])
    gtf_in = find_file(doc, ["tutorial-cgp/data/refseq/refseq.hg38.gtf",
                             "tutorial-cgp/refseq/refseq.hg38.gtf"])
    print(f"make_example.py: reading {fasta_in} and {gtf_in}", file=sys.stderr)

    seq_region = read_region_fasta(fasta_in)
    contig = write_fasta(seq_region, outdir / "chr16_region.fa.gz")
    gtf_rows = write_gtf(read_gtf(gtf_in), outdir / "chr16_genes.gtf.gz")
    boundaries = splice_boundaries(gtf_rows)

    taken: set[int] = set()
    main_set = make_set(contig, boundaries, SEED_MAIN, MIX_MAIN, taken, heldout=False)
    held_set = make_set(contig, boundaries, SEED_HELDOUT, MIX_HELDOUT, taken, heldout=True)
    main_pos = {(r["chrom"], r["pos"]) for r in main_set}
    assert not main_pos & {(r["chrom"], r["pos"]) for r in held_set}
    write_vcf(main_set, outdir / "variants.vcf", with_absent=True)
    write_vcf(held_set, outdir / "variants_heldout.vcf", with_absent=False)

    summarize("variants.vcf", main_set, boundaries)
    summarize("variants_heldout.vcf", held_set, boundaries)
    check_outputs(outdir, seq_region, [main_set, held_set])
    print(f"make_example.py: wrote {outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
