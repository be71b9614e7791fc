"""Pangolin from the command line: annotate -m pangolin, both models in one pass, the
`spliceannot pangolin` drop-in, and bad input (one line, exit 2, nothing written).

Real weights from ../shared (skipped when absent); a few records each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spliceannot.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "data" / "pangolin-models"
DATA = ROOT / "tests" / "data" / "pangolin"
FASTA = ROOT / "examples" / "chr16_region.fa.gz"
GTF = ROOT / "examples" / "chr16_genes.gtf.gz"
DB = DATA / "chr16_genes_full.db"
needs_weights = pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not in ../shared")


@pytest.fixture(autouse=True)
def weights(monkeypatch):
    monkeypatch.setenv("SPLICEANNOT_PANGOLIN_MODELS", str(MODELS))


def run_cli(args):
    from click.testing import CliRunner

    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def few(tmp_path_factory) -> Path:
    """Eight records of the chr16 fidelity set: SNVs, an insertion, an MNV, a deletion, both strands."""
    lines = (DATA / "chr16_pangolin.vcf").read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if not line.startswith("#")]
    path = tmp_path_factory.mktemp("few") / "few.vcf"
    path.write_text("".join(header + records[:8]))
    return path


def info_of(path: Path, key: str) -> list[str | None]:
    values = []
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        fields = dict(item.split("=", 1) if "=" in item else (item, "") for item in line.split("\t")[7].split(";"))
        values.append(fields.get(key))
    return values


@needs_weights
def test_annotate_and_the_drop_in_write_the_same_pangolin_values(few, tmp_path):
    out = tmp_path / "annotated.vcf"
    result = run_cli(["annotate", "-I", few, "-O", out, "-R", FASTA, "-A", DB, "-m", "pangolin", "--no-cache"])
    assert result.exit_code == 0, result.output
    header = [line for line in out.read_text().splitlines() if line.startswith("##INFO=<ID=Pangolin")]
    expected = (
        '##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. '
        'Format: gene|pos:score_change|pos:score_change|warnings,...">'
    )
    assert header == [expected]
    assert not any(line.startswith("##INFO=<ID=SpliceAI") for line in out.read_text().splitlines())
    prefix = tmp_path / "dropin"
    result = run_cli(["pangolin", few, FASTA, DB, prefix])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Using CPU"
    ours = info_of(out, "Pangolin")
    assert ours == info_of(Path(f"{prefix}.vcf"), "Pangolin")
    assert sum(value is not None for value in ours) >= 4


@needs_weights
def test_both_models_in_one_pass_equal_separate_runs(few, tmp_path):
    both, alone_s, alone_p = tmp_path / "both.vcf", tmp_path / "s.vcf", tmp_path / "p.vcf"
    common = ["-I", few, "-R", FASTA, "-A", GTF, "--no-cache"]
    assert run_cli(["annotate", *common, "-O", both, "-m", "pangolin", "-m", "spliceai"]).exit_code == 0
    assert run_cli(["annotate", *common, "-O", alone_s]).exit_code == 0
    assert run_cli(["annotate", *common, "-O", alone_p, "-m", "pangolin"]).exit_code == 0
    assert info_of(both, "SpliceAI") == info_of(alone_s, "SpliceAI")
    assert info_of(both, "Pangolin") == info_of(alone_p, "Pangolin")
    infos = [line.split("=<ID=")[1].split(",")[0] for line in both.read_text().splitlines() if "##INFO=<ID=" in line]
    assert infos.index("SpliceAI") < infos.index("Pangolin")


@needs_weights
def test_partial_weight_set_is_one_line(few, tmp_path):
    partial = tmp_path / "weights"
    partial.mkdir()
    shutil.copy(MODELS / "final.1.0.3.v2", partial / "final.1.0.3.v2")
    prefix = tmp_path / "out"
    result = run_cli(["pangolin", few, FASTA, DB, prefix, "--pangolin-models", partial])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"spliceannot pangolin: error: {partial}: not a complete Pangolin weight set: "
        "11 of 12 files missing (final.2.0.3.v2, final.3.0.3.v2, final.1.2.3.v2, ...)"
    )
    assert not Path(f"{prefix}.vcf").exists()
    out = tmp_path / "a.vcf"
    result = run_cli(["annotate", "-I", few, "-O", out, "-R", FASTA, "-A", GTF, "-m", partial])
    assert result.exit_code == 2 and "not a complete Pangolin weight set" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_not_a_gffutils_database_is_one_line(few, tmp_path):
    fake = tmp_path / "genes.db"
    fake.write_text("not sqlite\n")
    prefix = tmp_path / "out"
    result = run_cli(["pangolin", few, FASTA, fake, prefix])
    assert result.exit_code == 2
    assert result.output.startswith(f"spliceannot pangolin: error: {fake}: annotation_file could not be opened")
    assert len(result.output.strip().splitlines()) == 1 and not Path(f"{prefix}.vcf").exists()


def test_sqlite_that_is_not_gffutils_is_one_line(few, tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = run_cli(["pangolin", few, FASTA, other, tmp_path / "out"])
    assert result.exit_code == 2
    assert result.output.startswith(f"spliceannot pangolin: error: {other}: not a gffutils database")
    assert not (tmp_path / "out.vcf").exists()


def test_csv_without_the_named_columns_is_one_line(tmp_path):
    table = tmp_path / "v.csv"
    table.write_text("chrom,position,REF,ALT\nchr16,190000,A,G\n")
    result = run_cli(["pangolin", table, FASTA, DB, tmp_path / "out"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"spliceannot pangolin: error: {table}: no column CHROM, POS (columns: chrom, position, REF, ALT)"
    )
    assert not (tmp_path / "out.csv").exists()


def test_variant_file_of_another_kind_is_one_line(tmp_path):
    other = tmp_path / "v.tsv"
    other.write_text("x\n")
    result = run_cli(["pangolin", other, FASTA, DB, tmp_path / "out"])
    assert result.exit_code == 2 and "variant_file needs to be a CSV or VCF" in result.output


def test_two_models_of_one_family_are_refused(few, tmp_path):
    result = run_cli(["annotate", "-I", few, "-O", tmp_path / "o.vcf", "-R", FASTA, "-A", GTF,
                      "-m", "spliceai", "-m", "spliceai"])  # fmt: skip
    assert result.exit_code == 2
    assert "give one SpliceAI and one Pangolin model" in result.output


def test_a_gene_that_starts_at_the_variant_is_not_found():
    from spliceannot.pangolin.genes import FeatureDbGenes

    genes = FeatureDbGenes(DB)
    gene = next(iter(genes._db.features_of_type("gene")))
    assert not genes.genes(gene.seqid, gene.start)
    found = genes.genes(gene.seqid, gene.start + 1)
    assert gene["gene_id"][0] in (found.plus if gene.strand == "+" else found.minus)


@needs_weights
def test_worker_processes_and_ray_write_the_single_process_output(few, tmp_path):
    pytest.importorskip("ray")
    outputs = {}
    for name, extra in (("local", ["--workers", 1]), ("workers", ["--workers", 2, "--chunk-size", 3]),
                        ("ray", ["--engine", "ray", "--workers", 2, "--chunk-size", 3])):  # fmt: skip
        out = tmp_path / f"{name}.vcf"
        result = run_cli(["annotate", "-I", few, "-O", out, "-R", FASTA, "-A", DB, "-m", "pangolin", "--no-cache", *extra])
        assert result.exit_code == 0, result.output
        outputs[name] = [line for line in out.read_text().splitlines() if not line.startswith("##spliceannot")]
    assert outputs["workers"] == outputs["local"]
    assert outputs["ray"] == outputs["local"]
