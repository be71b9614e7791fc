#!/usr/bin/env python3
"""Every record of the Pangolin fidelity sets against Pangolin 5cf94b8's outputs.

Runs ``spliceannot pangolin``'s code in process on each input of
``tests/data/pangolin/expected/runs.tsv`` (chr16: the example region; chr19:
GRCh37 from ../shared, made into a plain FASTA and a gffutils database here),
sharing each input's network outputs between its settings, and prints per
run: records, records byte-identical, Pangolin= fields identical, stdout
identical, and whether the whole file is identical::

    .venv/bin/python benchmarks/pangolin_fidelity.py [--models DIR]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_pangolin_fidelity import DATA, EXPECTED, MemoTracks, run

from spliceannot.factory import ScorerSpec, build_scorer

RUNS = {  # name -> (input, kind, distance, mask, cutoff)
    "chr16_d50": ("chr16_pangolin.vcf", "vcf", 50, True, None),
    "chr16_d50_nomask": ("chr16_pangolin.vcf", "vcf", 50, False, None),
    "chr16_csv": ("chr16_pangolin.csv", "csv", 50, True, None),
    "chr16_csv_s002": ("chr16_pangolin.csv", "csv", 50, True, 0.02),
    "chr19_d500": ("chr19_pangolin.vcf", "vcf", 500, True, None),
    "chr19_d500_nomask": ("chr19_pangolin.vcf", "vcf", 500, False, None),
}


def field(line: str, key: str) -> str | None:
    if "\t" not in line:
        return line.rsplit(",", 1)[-1] if key == "csv" else None
    for item in line.split("\t")[7].split(";"):
        if item.startswith(key + "="):
            return item[len(key) + 1 :]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(ROOT.parent / "shared" / "data" / "pangolin-models"))
    parser.add_argument("--only", default="", help="Comma-separated run names (default: all).")
    args = parser.parse_args()
    import gffutils
    import pysam

    work = Path(tempfile.mkdtemp(prefix="pangolin-fidelity-"))
    chr19 = work / "chr19.fa"
    with gzip.open(ROOT.parent / "shared" / "data" / "golden" / "chr19_grch37_small.fa.gz", "rt") as source:
        chr19.write_text(source.read())
    pysam.faidx(str(chr19))
    database = work / "chr19.db"
    gffutils.create_db(str(DATA / "chr19_grch37.gtf"), str(database), disable_infer_genes=True,
                       disable_infer_transcripts=True)  # fmt: skip
    inputs = {"chr16": (ROOT / "examples" / "chr16_region.fa.gz", DATA / "chr16_genes_full.db"), "chr19": (chr19, database)}
    scorers: dict = {}
    failed = 0
    print("run\trecords\tidentical lines\tidentical Pangolin values\tstdout identical\tfile identical")
    for name, (variants, kind, distance, mask, cutoff) in RUNS.items():
        if args.only and name not in args.only.split(","):
            continue
        key = (name[:5], distance)
        if key not in scorers:
            reference, annotation = inputs[name[:5]]
            spec = ScorerSpec(reference=str(reference), annotation=str(annotation), model=args.models, distance=distance)
            scorers[key] = build_scorer(spec)
            scorers[key].tracks = MemoTracks(scorers[key].tracks)
        scorer = scorers[key].derive(mask=mask)
        scorer.cutoff = cutoff
        ours, our_stdout = run(scorer, kind, DATA / variants, work, name)
        theirs = (EXPECTED / f"{name}.{kind}").read_text()
        mine = [line for line in ours.splitlines() if not line.startswith("#")]
        their = [line for line in theirs.splitlines() if not line.startswith("#")]
        if kind == "csv":
            mine, their = mine[1:], their[1:]
        same_lines = sum(a == b for a, b in zip(mine, their))
        key_name = "csv" if kind == "csv" else "Pangolin"
        same_values = sum(field(a, key_name) == field(b, key_name) for a, b in zip(mine, their))
        their_stdout = (EXPECTED / f"{name}.stdout").read_text()
        stdout_same = our_stdout == their_stdout
        if not stdout_same:
            import difflib

            sys.stderr.writelines(difflib.unified_diff(their_stdout.splitlines(True), our_stdout.splitlines(True),
                                                       "pangolin", "spliceannot", n=0))  # fmt: skip
        whole = ours == theirs
        failed += not (whole and stdout_same)
        print(f"{name}\t{len(their)}\t{same_lines}\t{same_values}\t{stdout_same}\t{whole}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
