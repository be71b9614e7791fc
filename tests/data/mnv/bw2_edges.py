"""Edge cases of the bw2/SpliceAI fork's MNV/delins scoring, record by record.

Run with the fork's virtualenv (benchmarks/peers/setup_bw2.sh), from the repository
root, with the example FASTA decompressed to FASTA_PLAIN:

    $VENV/bin/python tests/data/mnv/bw2_edges.py /tmp/mnvref/chr16_region.fa

Calls the fork's own ``get_delta_scores`` once per record so that one record that
raises does not hide the others (the ``spliceai`` command stops at the first).
Prints one line per record: the 11 leading INFO fields, or the exception.
"""

from __future__ import annotations

import collections
import gzip
import sys

from spliceai.utils import Annotator, get_delta_scores

Record = collections.namedtuple("Record", ["chrom", "pos", "ref", "alts"])
FIELDS = ("ALLELE", "NAME", "STRAND", "DS_AG", "DS_AL", "DS_DG", "DS_DL", "DP_AG", "DP_AL", "DP_DG", "DP_DL")
POS = 300000  # AXIN1 (-), intron
DIST = 50
# (what, length of REF, ALT: bases, "same" = REF with every base changed, "anchor" = REF[0])
CASES = [
    ("REF 51 ALT 2", 51, "GA"),
    ("REF 52 ALT 2", 52, "GA"),
    ("REF 60 ALT 2", 60, "GA"),
    ("REF 60 ALT 60", 60, "same"),
    ("REF 101 ALT 2", 101, "GA"),
    ("REF 80 ALT 1", 80, "anchor"),
    ("REF 100 ALT 1", 100, "anchor"),
]


def main(fasta_plain: str) -> None:
    with gzip.open("examples/chr16_region.fa.gz", "rt") as handle:
        seq = "".join(line.strip() for line in handle if not line.startswith(">")).upper()
    ann = Annotator(fasta_plain, "grch38")
    for what, length, alt in CASES:
        ref = seq[POS - 1:POS - 1 + length]
        if alt == "same":
            alt = ref.translate(str.maketrans("ACGT", "CGTA"))
        elif alt == "anchor":
            alt = ref[0]
        try:
            scores = get_delta_scores(Record("chr16", POS, ref, [alt]), ann, DIST, 0)
            result = ",".join("|".join(str(entry[key]) for key in FIELDS) for entry in scores) or "(no entry)"
        except ValueError as error:
            result = f"ValueError: {error}"
        print(f"-D {DIST} chr16:{POS} {what}: {result}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
