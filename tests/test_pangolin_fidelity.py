"""`spliceannot pangolin` against Pangolin 5cf94b8's own outputs (tests/data/pangolin/expected/):
the whole output file and the warnings on standard output, byte for byte.

The networks run once per input: the masked and unmasked (or -s) runs share
their tracks through a memo, so each check costs one scoring pass.  chr16
(the example region) whole; chr19 (GRCh37, from ../shared) on its first
records at -d 500.  benchmarks/pangolin_fidelity.py runs every record.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from spliceannot.factory import ScorerSpec, build_scorer
from spliceannot.pangolin import dropin
from spliceannot.tracks import window_key

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "data" / "pangolin-models"
CHR19 = ROOT.parent / "shared" / "data" / "golden" / "chr19_grch37_small.fa.gz"
DATA = ROOT / "tests" / "data" / "pangolin"
EXPECTED = DATA / "expected"
pytestmark = pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not in ../shared")


class MemoTracks:
    """A track source that computes each window once and hands out the stored tracks after."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.store: dict = {}

    def __call__(self, jobs, geometry):
        keys = [(window_key(job, geometry), geometry) for job in jobs]
        missing = {key: job for key, job in zip(keys, jobs) if key not in self.store}
        if missing:
            self.store.update(zip(missing, self.inner(list(missing.values()), geometry)))
        return [self.store[key] for key in keys]


def run(scorer, kind: str, variants: Path, tmp_path: Path, name: str, **csv) -> tuple[str, str]:
    lines: list[str] = ["Using CPU"]
    output = tmp_path / f"{name}.{kind}"
    if kind == "vcf":
        dropin.annotate_vcf(str(variants), str(output), scorer, lines.append)
    else:
        table, columns = dropin.read_csv(str(variants), "CHROM,POS,REF,ALT")
        dropin.annotate_csv(str(variants), table, columns, str(output), scorer, lines.append)
    return output.read_text(), "".join(line + "\n" for line in lines)


def scorer_for(reference: Path, annotation: Path, distance: int):
    spec = ScorerSpec(reference=str(reference), annotation=str(annotation), model=str(MODELS), distance=distance)
    scorer = build_scorer(spec)
    scorer.tracks = MemoTracks(scorer.tracks)
    return scorer


def expected(name: str, kind: str) -> tuple[str, str]:
    return (EXPECTED / f"{name}.{kind}").read_text(), (EXPECTED / f"{name}.stdout").read_text()


def test_chr16_vcf_masked_and_unmasked_equal_pangolins_files(tmp_path):
    scorer = scorer_for(ROOT / "examples" / "chr16_region.fa.gz", DATA / "chr16_genes_full.db", 50)
    variants = DATA / "chr16_pangolin.vcf"
    assert run(scorer, "vcf", variants, tmp_path, "masked") == expected("chr16_d50", "vcf")
    unmasked = scorer.derive(mask=False)
    assert run(unmasked, "vcf", variants, tmp_path, "unmasked") == expected("chr16_d50_nomask", "vcf")


def test_chr16_csv_default_and_cutoff_equal_pangolins_files(tmp_path):
    scorer = scorer_for(ROOT / "examples" / "chr16_region.fa.gz", DATA / "chr16_genes_full.db", 50)
    variants = DATA / "chr16_pangolin.csv"
    assert run(scorer, "csv", variants, tmp_path, "default") == expected("chr16_csv", "csv")
    scorer.cutoff = 0.02
    assert run(scorer, "csv", variants, tmp_path, "cutoff") == expected("chr16_csv_s002", "csv")


@pytest.mark.skipif(not CHR19.is_file(), reason="GRCh37 chr19 not in ../shared")
def test_chr19_first_records_at_500_equal_pangolins(tmp_path):
    import gffutils
    import pysam

    fasta = tmp_path / "chr19.fa"
    with gzip.open(CHR19, "rt") as source:
        fasta.write_text(source.read())
    pysam.faidx(str(fasta))
    database = tmp_path / "chr19.db"
    gffutils.create_db(str(DATA / "chr19_grch37.gtf"), str(database), disable_infer_genes=True,
                       disable_infer_transcripts=True)  # fmt: skip
    lines = (DATA / "chr19_pangolin.vcf").read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if not line.startswith("#")][:30]
    variants = tmp_path / "first.vcf"
    variants.write_text("".join(header + records))
    scorer = scorer_for(fasta, database, 500)
    for mask, name in ((True, "chr19_d500"), (False, "chr19_d500_nomask")):
        ours, _ = run(scorer.derive(mask=mask), "vcf", variants, tmp_path, name)
        theirs, _ = expected(name, "vcf")
        our_records = [line for line in ours.splitlines() if not line.startswith("#")]
        their_records = [line for line in theirs.splitlines() if not line.startswith("#")][:30]
        assert our_records == their_records
