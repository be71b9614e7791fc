"""VCF/BCF reading and atomic writing (spliceannot.readers.vcf, spliceannot.writers.vcf)."""

from __future__ import annotations

import gzip
import os
import re
import shutil

import pysam
import pytest

from spliceannot.errors import InputError
from spliceannot.readers.vcf import open_variants
from spliceannot.writers.vcf import AtomicVariantWriter, output_type_for, write_index
from toy import (
    FASTA,
    VARIANTS,
    VARIANTS_GZ,
    VCF_COLUMNS,
    bcftools,
    data_lines,
    example_lines,
    read_text,
    vcf_text,
)


@pytest.mark.parametrize(
    "name, requested, expected",
    [
        ("out.vcf", None, "v"),
        ("-", None, "v"),
        ("out.vcf.gz", None, "z"),
        ("out.vcf.bgz", None, "z"),
        ("OUT.BCF", None, "b"),
        ("out.vcf", "b", "b"),
        ("out.bcf", "u", "u"),
        ("out.vcf.gz", "v", "v"),
    ],
)
def test_output_type_from_name_or_option(name, requested, expected):
    assert output_type_for(name, requested) == expected


def test_unknown_output_type_is_an_input_error():
    with pytest.raises(InputError, match="--output-type"):
        output_type_for("out.vcf", "x")


# --------------------------------------------------------------------------- reading


def bad_input(directory, kind):
    if kind == "missing":
        return directory / "missing.vcf", "missing.vcf: input VCF not found"
    if kind == "directory":
        return directory, f"{directory}: is a directory"
    if kind == "empty":
        (directory / "empty.vcf").write_text("")
        return directory / "empty.vcf", "empty.vcf: empty file"
    shutil.copy(FASTA, directory / "genome.fa.gz")
    return directory / "genome.fa.gz", "genome.fa.gz: not a"


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "fasta"])
def test_open_variants_rejects_bad_input_naming_the_file(tmp_path, kind):
    path, message = bad_input(tmp_path, kind)
    with pytest.raises(InputError, match=re.escape(message)):
        open_variants(str(path))


def malformed_vcf(path, *, bad_record: int = 5):
    header, data = example_lines()
    data = list(data[:10])
    fields = data[bad_record - 1].split("\t")
    fields[1] = "abc"  # non-numeric POS
    data[bad_record - 1] = "\t".join(fields)
    path.write_text("".join(header + data))
    return len(header) + bad_record  # its line number


def test_malformed_record_names_file_and_line(tmp_path):
    path = tmp_path / "broken.vcf"
    line = malformed_vcf(path)
    handle = open_variants(str(path))
    seen = []
    with pytest.raises(InputError, match=rf"broken\.vcf:{line}: malformed VCF record") as error:
        for item in handle.records():
            seen.append(item.record.id)
    assert "abc" in str(error.value)
    assert len(seen) == 4  # the records before it were delivered


def test_malformed_record_in_bgzipped_input_names_the_line(tmp_path):
    plain = tmp_path / "broken.vcf"
    line = malformed_vcf(plain, bad_record=7)
    packed = tmp_path / "broken.vcf.gz"
    pysam.tabix_compress(str(plain), str(packed))
    handle = open_variants(str(packed))
    with pytest.raises(InputError, match=rf"broken\.vcf\.gz:{line}:"):
        list(handle.records())


def test_regions_need_an_index_and_select_records():
    handle = open_variants(str(VARIANTS_GZ), regions=["chr16:190000-196000", "chr17"])
    records = list(handle.records())
    assert [r.pos for r in records][:2] == [190174, 190287]
    assert all(190000 <= r.pos <= 196000 for r in records[:-1])
    assert records[-1].chrom == "chr17"
    with pytest.raises(InputError, match=r"variants\.vcf: cannot fetch region"):
        open_variants(str(VARIANTS), regions=["chr16:1-1000"])


# --------------------------------------------------------------------------- writing


def copy_through(source_path, output_path, output_type):
    source = open_variants(str(source_path))
    writer = AtomicVariantWriter(str(output_path), source.header, output_type=output_type)
    try:
        for item in source.records():
            writer.write(item.record, item.line)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    source.close()


def test_text_output_passes_every_record_through_unchanged(tmp_path):
    """Including a symbolic <DEL> without END, which pysam's own writer would change."""
    out = tmp_path / "copy.vcf"
    copy_through(VARIANTS, out, "v")
    _, expected = example_lines()
    assert data_lines(out.read_text()) == [line.rstrip("\n") for line in expected]
    assert any("<DEL>" in line for line in expected)


def test_bgzipped_output_is_bgzf_and_unchanged(tmp_path):
    out = tmp_path / "copy.vcf.gz"
    copy_through(VARIANTS, out, "z")
    _, expected = example_lines()
    with gzip.open(out, "rt") as handle:
        assert data_lines(handle.read()) == [line.rstrip("\n") for line in expected]
    write_index(str(out), "z")  # tabix only indexes BGZF
    assert len(list(pysam.VariantFile(str(out)).fetch("chr16", 190000, 196000))) > 0


def test_records_with_undeclared_contig_and_info_pass_through(tmp_path):
    source = tmp_path / "undeclared.vcf"
    lines = [
        "chr16\t189969\tv3\tT\tA\t.\tPASS\tFOO=1;BAR",
        "chr16\t347281\tv215\tA\t<DEL>\t.\tPASS\t.",
        "chr5\t1000\tv9\tC\tG\t50\tq10\tFOO=2",
    ]
    source.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + "\n".join(lines)
        + "\n"
    )
    for kind, name in (("v", "out.vcf"), ("z", "out.vcf.gz")):
        copy_through(source, tmp_path / name, kind)
        assert data_lines(read_text(tmp_path / name)) == lines


@pytest.mark.usefixtures("need_bcftools")
def test_bcf_output_reads_back(tmp_path):
    out = tmp_path / "copy.bcf"
    copy_through(VARIANTS, out, "b")
    text = bcftools("view", "--no-version", str(out))
    _, expected = example_lines()
    got = data_lines(text)
    assert [l.split("\t")[:7] for l in got] == [l.rstrip("\n").split("\t")[:7] for l in expected]


@pytest.mark.parametrize("first", [True, False], ids=["first-record", "later-record"])
def test_bcf_output_refuses_an_undeclared_tag_with_a_clear_error(tmp_path, first):
    """htslib cannot write such a record as BCF; say so instead of writing a broken file."""
    undeclared = "chr16\t189970\tv4\tG\tA\t.\tPASS\tLATE=1\n"
    declared = vcf_text([("chr16", 189969, "v3", "T", "A")])
    source = tmp_path / "late.vcf"
    source.write_text(
        declared.replace(VCF_COLUMNS + "\n", VCF_COLUMNS + "\n" + undeclared)
        if first
        else declared + undeclared
    )
    out = tmp_path / "out.bcf"
    with pytest.raises(
        InputError, match=r"out\.bcf: cannot write BCF: .*INFO LATE at chr16:189970"
    ):
        copy_through(source, out, "b")
    assert os.listdir(tmp_path) == ["late.vcf"]


def test_abort_leaves_no_file_and_keeps_an_existing_one(tmp_path):
    out = tmp_path / "out.vcf"
    out.write_text("previous contents\n")
    source = open_variants(str(VARIANTS))
    writer = AtomicVariantWriter(str(out), source.header, output_type="v")
    for item in source:
        writer.write(item.record, item.line)
    writer.abort()
    assert out.read_text() == "previous contents\n"
    assert sorted(os.listdir(tmp_path)) == ["out.vcf"]  # no temporary file left


def test_close_moves_the_file_into_place_with_umask_permissions(tmp_path):
    out = tmp_path / "out.vcf"
    source = open_variants(str(VARIANTS))
    writer = AtomicVariantWriter(str(out), source.header, output_type="v")
    assert not out.exists()  # nothing at the path while writing
    writer.close()
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert out.read_text().startswith("##fileformat=VCFv4.2\n")
    assert os.listdir(tmp_path) == ["out.vcf"]


@pytest.mark.parametrize("where", ["missing-directory", "directory"])
def test_unwritable_output_is_an_input_error(tmp_path, where):
    path = tmp_path / "no" / "out.vcf" if where == "missing-directory" else tmp_path
    source = open_variants(str(VARIANTS))
    with pytest.raises(InputError, match=re.escape(str(path))):
        AtomicVariantWriter(str(path), source.header, output_type="v")


def test_write_index_makes_tbi_and_csi(tmp_path):
    for kind, name, suffix in (("z", "out.vcf.gz", ".tbi"), ("b", "out.bcf", ".csi")):
        out = tmp_path / name
        copy_through(VARIANTS, out, kind)
        assert write_index(str(out), kind) == str(out) + suffix
        assert (tmp_path / (name + suffix)).exists()
        records = list(pysam.VariantFile(str(out)).fetch("chr16", 189000, 191000))
        assert [r.id for r in records] == ["v2", "v3", "v4", "v5", "v6"]
    with pytest.raises(InputError):
        write_index(str(tmp_path / "x.vcf"), "v")
