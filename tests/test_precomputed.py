"""--output-mode per-gene and --precomputed score files."""

from __future__ import annotations

import gzip
import subprocess

import pysam
from click.testing import CliRunner

from spliceannot.cli import main
from toy import FASTA, VARIANTS, data_lines, info_value, tiny_members

OTHER_SEEDS = (21, 22)


def annotate(*args):
    return CliRunner().invoke(main, ["annotate", "-R", str(FASTA), "-A", "grch38", "--no-cache",
                                     "--workers", "1", *map(str, args)])  # fmt: skip


def other_model(tmp_path):
    from spliceannot.engine.weights import save_checkpoint

    path = tmp_path / "other.safetensors"
    save_checkpoint(path, tiny_members(OTHER_SEEDS))
    return path


def entries_by_id(text: str) -> dict[str, str | None]:
    return {line.split("\t")[2]: info_value(line) for line in data_lines(text)}


def test_per_gene_output_has_one_indexed_line_per_entry(tiny_model, tmp_path):
    full = tmp_path / "full.vcf"
    assert annotate("-I", VARIANTS, "-O", full, "-m", tiny_model).exit_code == 0
    per_gene = tmp_path / "scores.vcf.gz"
    result = annotate("-I", VARIANTS, "-O", per_gene, "-m", tiny_model, "--output-mode", "per-gene")
    assert result.exit_code == 0, result.output
    assert "per-gene lines written" in result.output
    expected = []
    for line in data_lines(full.read_text()):
        value = info_value(line)
        if value:
            chrom, pos, ident, ref = line.split("\t")[:4]
            expected += [(chrom, pos, ident, ref, entry.split("|")[0], entry) for entry in value.split(",")]
    with gzip.open(per_gene, "rt") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    got = [(c, p, i, r, a, info.removeprefix("SpliceAI=")) for c, p, i, r, a, _, _, info in lines]
    assert got == expected and len(got) > 200
    assert all(";" not in row[7] and "," not in row[4] for row in lines)
    with pysam.TabixFile(str(per_gene)) as tabix:
        first = got[0]
        assert any(first[5] in row for row in tabix.fetch(first[0], int(first[1]) - 1, int(first[1])))


def test_per_gene_needs_a_bgzipped_file_and_sorted_input(tiny_model, tmp_path):
    stdout = annotate("-I", VARIANTS, "-m", tiny_model, "--output-mode", "per-gene")
    assert stdout.exit_code == 2 and "vcf.gz" in stdout.output
    lines = VARIANTS.read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    unsorted = tmp_path / "unsorted.vcf"
    unsorted.write_text("\n".join(header + body[10:20] + body[:10]) + "\n")
    out = tmp_path / "u.vcf.gz"
    result = annotate("-I", unsorted, "-O", out, "-m", tiny_model, "--output-mode", "per-gene")
    assert result.exit_code == 2 and "sorted" in result.output
    assert not out.exists() and not list(tmp_path.glob(".u.vcf.gz*"))


def test_precomputed_scores_are_used_and_the_rest_computed(tiny_model, tmp_path):
    per_gene = tmp_path / "scores.vcf.gz"
    assert annotate("-I", VARIANTS, "-O", per_gene, "-m", tiny_model, "--output-mode", "per-gene").exit_code == 0
    other = other_model(tmp_path)
    first_model = tmp_path / "first.vcf"
    assert annotate("-I", VARIANTS, "-O", first_model, "-m", tiny_model).exit_code == 0
    plain_other = tmp_path / "other.vcf"
    assert annotate("-I", VARIANTS, "-O", plain_other, "-m", other).exit_code == 0
    served = tmp_path / "served.vcf"
    result = annotate("-I", VARIANTS, "-O", served, "-m", other, "--precomputed", per_gene)
    assert result.exit_code == 0, result.output
    assert served.read_text().split("#CHROM")[1] == first_model.read_text().split("#CHROM")[1]
    assert entries_by_id(plain_other.read_text()) != entries_by_id(first_model.read_text())
    # a file holding half of the variants: those come from it, the others are computed
    with gzip.open(per_gene, "rt") as handle:
        text = handle.read().splitlines()
    head = [line for line in text if line.startswith("#")]
    body = [line for line in text if not line.startswith("#")]
    half_ids = {line.split("\t")[2] for line in body[: len(body) // 2]}
    half = tmp_path / "half.vcf"
    half.write_text("\n".join(head + [line for line in body if line.split("\t")[2] in half_ids]) + "\n")
    subprocess.run(["bgzip", "-f", str(half)], check=True)
    subprocess.run(["tabix", "-p", "vcf", str(half) + ".gz"], check=True)
    mixed = tmp_path / "mixed.vcf"
    assert annotate("-I", VARIANTS, "-O", mixed, "-m", other, "--precomputed", f"{half}.gz").exit_code == 0
    want_first, want_other = entries_by_id(first_model.read_text()), entries_by_id(plain_other.read_text())
    got = entries_by_id(mixed.read_text())
    assert half_ids and all(got[i] == want_first[i] for i in half_ids)
    rest = [i for i in got if i not in half_ids]
    assert rest and all(got[i] == want_other[i] for i in rest)


def test_precomputed_matches_contigs_with_or_without_chr(tiny_model, tmp_path):
    per_gene = tmp_path / "scores.vcf.gz"
    assert annotate("-I", VARIANTS, "-O", per_gene, "-m", tiny_model, "--output-mode", "per-gene").exit_code == 0
    with gzip.open(per_gene, "rt") as handle:
        text = handle.read().replace("chr16", "16")
    renamed = tmp_path / "renamed.vcf"
    renamed.write_text(text)
    subprocess.run(["bgzip", "-f", str(renamed)], check=True)
    subprocess.run(["tabix", "-p", "vcf", str(renamed) + ".gz"], check=True)
    expected, served = tmp_path / "e.vcf", tmp_path / "s.vcf"
    assert annotate("-I", VARIANTS, "-O", expected, "-m", tiny_model).exit_code == 0
    assert annotate("-I", VARIANTS, "-O", served, "-m", other_model(tmp_path), "--precomputed", f"{renamed}.gz").exit_code == 0
    assert entries_by_id(served.read_text()) == entries_by_id(expected.read_text())


def test_precomputed_without_an_index_is_a_one_line_error(tiny_model, tmp_path):
    plain = tmp_path / "noindex.vcf.gz"
    plain.write_bytes(b"")
    result = annotate("-I", VARIANTS, "-O", tmp_path / "o.vcf", "-m", tiny_model, "--precomputed", plain)
    assert result.exit_code == 2 and "tabix" in result.output and result.output.count("\n") == 1
