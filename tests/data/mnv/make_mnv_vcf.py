"""Write tests/data/mnv/mnv.vcf: MNVs, delins and a few controls on the example region.

Every record lies inside a gene of SpliceAI's ``grch38`` table on the example contig
(``examples/chr16_region.fa.gz``, contig ``chr16``). REF is checked against the
upper-cased FASTA; for the three long delins REF is read from it. Run from the
repository root: ``python tests/data/mnv/make_mnv_vcf.py``.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

FASTA = Path("examples/chr16_region.fa.gz")
OUT = Path("tests/data/mnv/mnv.vcf")
CONTIG = "chr16"
CONTIG_LENGTH = 397118

# (id, 1-based POS, REF, ALT(s), what). REF None: the next `length` bases of the FASTA.
RECORDS: list[tuple[str, int, str | int, str, str]] = [
    # Equal-length MNVs of 2, 3 and 5 bases.
    ("m1", 249547, "AG", "CT", "FAM234A/AC004754.3 (+) acceptor AG of exon 249549"),
    ("m2", 249655, "GT", "CA", "FAM234A/AC004754.3 (+) donor GT after exon end 249654"),
    ("m3", 281800, "AGG", "CTT", "ARHGDIG (+) inside exon 281746-281925"),
    ("m4", 281924, "GGG", "TCA", "ARHGDIG (+) last two exon bases + first intron base (exon end 281925)"),
    ("m5", 270519, "CCACC", "GTTGA", "RGS11 (-) donor (AC on +) and exon start 270523"),
    ("m6", 291250, "GCTGG", "ATCAA", "AXIN1 (-) inside exon 291190-291297"),
    ("m7", 291298, "CT", "GA", "AXIN1 (-) acceptor (CT on +) after exon end 291297"),
    ("m8", 200500, "CA", "TG", "LUC7L (-) deep intron"),
    ("m9", 284656, "CAG", "TTC", "PDIA2 (+) acceptor AG of exon 284659"),
    ("m10", 374150, "AACTG", "GGTCA", "TMEM8A (-) exon end 374151 and acceptor (CT on +)"),
    ("m11", 368350, "TT", "GC", "MRPL28 (-) inside exon 368328-368414"),
    ("m12", 254500, "AAA", "GTC", "FAM234A/AC004754.3 (+) inside exon 254381-254681"),
    ("m13", 269600, "GT", "AC", "AC004754.3 (+) and RGS11 (-) overlap"),
    ("m14", 293484, "GTACC", "CATGG", "AXIN1 (-) donor (AC on +) and exon start 293488"),
    # Equal length, some bases shared with REF.
    ("s1", 374003, "ACGT", "AGCA", "TMEM8A (-) REF 4 ALT 4, same first base; donor AC on + at 374003-374004"),
    ("s2", 291295, "TAC", "TGC", "AXIN1 (-) REF 3 ALT 3, same first and last base (= SNV 291296 A>G)"),
    ("s3", 199237, "TC", "AC", "LUC7L (-) REF 2 ALT 2, same last base (= SNV 199237 T>A), exon end 199238"),
    # Delins, REF longer than ALT.
    ("d1", 254377, "ACA", "GT", "FAM234A/AC004754.3 (+) REF 3 ALT 2, before acceptor AG 254379-254380"),
    ("d2", 270660, "GCC", "GT", "RGS11 (-) REF 3 ALT 2, same first base, exon end 270661"),
    ("d3", 293485, "TACCT", "CGA", "AXIN1 (-) REF 5 ALT 3 over donor (AC on +) 293486-293487"),
    ("d4", 282100, "ATCT", "GG", "ARHGDIG (+) REF 4 ALT 2, inside exon 282025-282108"),
    ("d5", 284790, "CAGGTG", "T", "PDIA2 (+) REF 6 ALT 1, not anchored, over exon end 284792 and donor"),
    ("d6", 374152, "CT", "G", "TMEM8A (-) REF 2 ALT 1, not anchored, acceptor (CT on +)"),
    ("d7", 199239, 10, "AGC", "LUC7L (-) REF 10 ALT 3 from the acceptor (CT on +) 199239-199240"),
    ("d8", 291200, 20, "TTGCA", "AXIN1 (-) REF 20 ALT 5 inside exon 291190-291297"),
    ("d9", 286320, 45, "GA", "PDIA2 (+) REF 45 ALT 2 over acceptor of exon 286353"),
    # Delins, ALT longer than REF.
    ("i1", 249652, "CA", "TGGC", "FAM234A/AC004754.3 (+) REF 2 ALT 4, 2 bp before exon end 249654"),
    ("i2", 368326, "AC", "ATTT", "MRPL28 (-) REF 2 ALT 4, same first base, donor (AC on +)"),
    ("i3", 291187, "TAC", "GGATC", "AXIN1 (-) REF 3 ALT 5 over donor (AC on +) 291188-291189"),
    ("i4", 270745, "CG", "GAA", "RGS11 (-) REF 2 ALT 3, exon start 270744"),
    ("i5", 285000, "GGT", "AACCTTGG", "PDIA2 (+) REF 3 ALT 8"),
    ("i6", 281744, "A", "GT", "ARHGDIG (+) REF 1 ALT 2, not anchored, acceptor AG 281744-281745"),
    # Multi-allelic.
    ("x1", 257000, "CC", "TC,GA", "FAM234A/AC004754.3 (+) SNV written on 2 bp + MNV"),
    ("x2", 381800, "TCC", "T,AGG", "TMEM8A (-) deletion + MNV"),
    # Controls: SNVs and anchored indels that SpliceAI 1.3.1 scores.
    ("c1", 249548, "G", "A", "control SNV, FAM234A/AC004754.3 acceptor AG"),
    ("c2", 291296, "A", "G", "control SNV, same change as s2"),
    ("c3", 199237, "T", "A", "control SNV, same change as s3"),
    ("c4", 270660, "GCC", "G", "control deletion, RGS11 exon end 270661"),
    ("c5", 284659, "G", "GTCA", "control insertion, PDIA2 exon start 284659"),
    ("c6", 320000, "T", "C", "control SNV, AXIN1 deep intron"),
    ("c7", 374150, "AAC", "A", "control deletion, TMEM8A exon end 374151"),
    ("c8", 281925, "G", "GA", "control insertion, ARHGDIG exon end 281925"),
    ("c9", 291298, "C", "G", "control SNV, first base of m7"),
    ("c10", 291299, "T", "A", "control SNV, second base of m7"),
]

HEADER = [
    "##fileformat=VCFv4.2",
    "##reference=GRCh38",
    f"##contig=<ID={CONTIG},length={CONTIG_LENGTH}>",
    '##INFO=<ID=WHAT,Number=1,Type=String,Description="What the record tests">',
    "##source=spliceannot tests/data/mnv/make_mnv_vcf.py (synthetic MNVs/delins on real GRCh38 sequence)",
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
]


def read_contig(path: Path) -> str:
    with gzip.open(path, "rt") as handle:
        return "".join(line.strip() for line in handle if not line.startswith(">")).upper()


def main() -> None:
    seq = read_contig(FASTA)
    assert len(seq) == CONTIG_LENGTH
    lines = []
    for name, pos, ref, alts, what in sorted(RECORDS, key=lambda r: (r[1], r[0])):
        if isinstance(ref, int):
            ref = seq[pos - 1:pos - 1 + ref]
        if seq[pos - 1:pos - 1 + len(ref)] != ref:
            raise ValueError(f"{name}: REF {ref} != FASTA {seq[pos - 1:pos - 1 + len(ref)]}")
        info = "WHAT=" + re.sub(r"[^A-Za-z0-9.+/()-]+", "_", what)
        lines.append(f"{CONTIG}\t{pos}\t{name}\t{ref}\t{alts}\t.\t.\t{info}")
    OUT.write_text("\n".join(HEADER + lines) + "\n")


if __name__ == "__main__":
    main()
