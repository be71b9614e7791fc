"""The README's bcftools command for the SpliceAI field, run as written with the installed bcftools.

``bcftools +split-vep`` cannot read the field (it requires a ``Consequence``
subfield); the README gives a ``bcftools query`` command instead. These tests
take that command from README.md, run it on spliceannot's output and on
SpliceAI 1.3.1's own output, and compare its lines with the INFO entries.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from toy import FASTA, ROOT, data_lines, info_value, read_text, write_subset

pytestmark = pytest.mark.skipif(
    shutil.which("bcftools") is None, reason="bcftools is not installed"
)

README = ROOT / "README.md"
README_INPUT = "annotated.vcf.gz"
SPLICEAI_OUTPUT = ROOT / "tests" / "data" / "spliceai131" / "variants.D50.vcf"
# no gene, a deletion, REF and ALT both longer (dots), two ALTs, two genes, SNVs on both strands
IDS = ["v1", "v2", "v3", "v5", "v7", "v9", "v22", "v59", "v82"]


def documented_command() -> str:
    """The README's ``bcftools query ... | awk ...`` command, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    found = [block for block in blocks if "bcftools query" in block and re.search(r"%SpliceAI(?!_)", block)]
    assert len(found) == 1, "README.md shows one bcftools query command for the SpliceAI field"
    command = found[0].strip().replace("\\\n", "")
    assert README_INPUT in command
    return command


def run_documented(path: Path) -> list[tuple[str, ...]]:
    command = documented_command().replace(README_INPUT, str(path))
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [tuple(line.split("\t")) for line in done.stdout.splitlines()]


def expected_rows(text: str) -> list[tuple[str, ...]]:
    """One row per INFO entry: CHROM, POS, REF, then the entry's ten fields."""
    rows = []
    for line in data_lines(text):
        chrom, pos, _, ref = line.split("\t")[:4]
        value = info_value(line)
        for entry in value.split(",") if value else []:
            rows.append((chrom, pos, ref, *entry.split("|")))
    return rows


def test_documented_command_splits_annotate_output(tiny_model, tmp_path):
    from click.testing import CliRunner

    from spliceannot.cli import main

    subset = write_subset(tmp_path / "subset.vcf", IDS)
    annotated = tmp_path / "annotated.vcf.gz"
    args = ["annotate", "-I", subset, "-O", annotated, "-R", FASTA, "-A", "grch38"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "-m", tiny_model, "--no-cache"]])
    assert result.exit_code == 0, result.stderr + repr(result.exception)

    expected = expected_rows(read_text(annotated))
    rows = run_documented(annotated)
    assert rows == expected
    assert all(len(row) == 13 for row in rows)
    # the cases the split must get right are there
    assert len({row[:2] for row in rows}) < len(rows), "several entries for one record"
    assert any(row[5] == "." for row in rows), "an entry with dots"
    assert len({row[:2] for row in rows}) < len(IDS), "records without scores are left out"


def test_documented_command_splits_spliceai_output():
    rows = run_documented(SPLICEAI_OUTPUT)
    expected = expected_rows(SPLICEAI_OUTPUT.read_text())
    assert len(expected) > 100 and rows == expected


def test_split_vep_refuses_the_field_as_the_readme_says():
    """If a bcftools release reads the SpliceAI field, the README's paragraph must change."""
    done = subprocess.run(
        ["bcftools", "+split-vep", "-a", "SpliceAI", "-l", str(SPLICEAI_OUTPUT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert 'The field "Consequence" is not present in INFO/SpliceAI' in done.stderr
    assert 'The field\n"Consequence" is not present in INFO/SpliceAI' in README.read_text()
