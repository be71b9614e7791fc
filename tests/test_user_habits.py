"""What users and careless inputs do to ``annotate``: bcftools habits, outputs that are not
regular files, byte-exact pass-through, setup mistakes, signals and odd input streams."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from toy import (
    bcftools,
    data_lines,
    example_lines,
    info_value,
    parse_entries,
    parse_summary,
)


def run_cli(args, *, input=None):
    from click.testing import CliRunner

    from spliceannot.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def first_records(path: Path, count: int, extra: str = "") -> Path:
    header, data = example_lines()
    path.write_text("".join(header + data[1 : 1 + count]) + extra)
    return path


# --------------------------------------------------------------------------- -O and -o


@pytest.mark.parametrize("letter", ["b", "u", "z", "v"])
def test_a_bcftools_output_type_as_O_is_refused(base_args, tmp_path, letter):
    vcf = first_records(tmp_path / "in.vcf", 3)
    os.chdir(tmp_path)
    result = run_cli([*base_args, "-I", vcf, f"-O{letter}"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"-O {letter}" in lines[0] and "-o" in lines[0], lines
    assert not (tmp_path / letter).exists()


def test_O_is_the_type_when_o_names_the_file(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 3)
    out = tmp_path / "named"
    result = run_cli([*base_args, "-I", vcf, "-Ob", "-o", out])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # BGZF: BCF, whatever the name says
    assert len(data_lines(bcftools("view", str(out)))) == 3


def test_a_file_literally_named_b_is_still_reachable(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 2)
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "b"])
    assert result.exit_code == 0, result.stderr
    assert len(data_lines((tmp_path / "b").read_text())) == 2


# --------------------------------------------------------------------------- summary and warnings


def test_the_summary_separates_cache_hits(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 12)
    args = [
        *base_args,
        "-I",
        vcf,
        "-O",
        tmp_path / "out.vcf",
        "--cache",
        tmp_path / "scores.sqlite",
    ]
    first = parse_summary(run_cli(args).stderr)
    second_run = run_cli(args)
    second = parse_summary(second_run.stderr)
    assert first["scored"] == second["scored"] > 0
    assert first.get("from_cache", 0) == 0
    text = (tmp_path / "out.vcf").read_text()
    dots_only = sum(  # entries SpliceAI prints as dots are neither computed nor cached
        all(e["ds"] is None for e in parse_entries(value))
        for value in map(info_value, data_lines(text))
        if value is not None
    )
    cached = second["scored"] - dots_only
    assert 0 < cached == second["from_cache"], second_run.stderr
    assert f"scored {second['scored']} ({cached} from the cache)" in second_run.stderr


def test_contig_names_that_match_nothing_give_one_warning(base_args, tmp_path):
    header, data = example_lines()
    renamed = [line.replace("chr16", "sixteen", 1) for line in data[1:10]]
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header + renamed))
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 0
    summary = parse_summary(result.stderr)
    assert summary["scored"] == 0
    assert "contig not in FASTA: 9" in result.stderr
    warnings = [l for l in result.stderr.splitlines() if ": warning:" in l]
    assert len(warnings) == 1 and "sixteen" in warnings[0] and "contig" in warnings[0], (
        result.stderr
    )


def test_ref_mismatches_point_at_the_genome_build(base_args, tmp_path):
    header, data = example_lines()
    swapped = []
    for line in data[1:12]:
        fields = line.split("\t")
        if len(fields[3]) == 1 and fields[3] in "ACGT":
            fields[3] = {"A": "C", "C": "G", "G": "T", "T": "A"}[fields[3]]
            fields[4] = "N" if fields[4] == fields[3] else fields[4]
            swapped.append("\t".join(fields))
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header + swapped))
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 0
    warnings = [l for l in result.stderr.splitlines() if ": warning:" in l]
    assert len(warnings) == 1 and "build" in warnings[0], result.stderr


def test_a_good_run_prints_no_warning(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 10)
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 0
    assert ": warning:" not in result.stderr


# --------------------------------------------------------------------------- per-allele fields


@pytest.mark.usefixtures("need_bcftools")
def test_each_per_allele_score_is_the_maximum_over_genes_with_its_own_position(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 250)
    out = tmp_path / "out.bcf"
    result = run_cli([*base_args, "-I", vcf, "-O", out, "--per-allele-fields"])
    assert result.exit_code == 0, result.stderr
    keys = ("AG", "AL", "DG", "DL")
    fmt = "%ALT\t%INFO/SpliceAI" + "".join(
        f"\t%INFO/SpliceAI_DS_{k}\t%INFO/SpliceAI_DP_{k}" for k in keys
    )
    multi_gene = 0
    for row in bcftools("query", "-f", fmt + "\n", str(out)).splitlines():
        fields = row.split("\t")
        if fields[1] == ".":
            continue
        alts = fields[0].split(",")
        entries = parse_entries(fields[1])
        for k, key in enumerate(keys):
            ds = fields[2 + 2 * k].split(",")
            dp = fields[3 + 2 * k].split(",")
            for a, alt in enumerate(alts):
                mine = [e for e in entries if e["alt"] == alt and e["ds"] is not None]
                if not mine:
                    assert ds[a] == "." and dp[a] == "."
                    continue
                multi_gene += len(mine) > 1 and k == 0
                best = max(e["ds"][k] for e in mine)
                assert float(ds[a]) == pytest.approx(best, abs=1e-6), (key, row)
                positions = {e["dp"][k] for e in mine if e["ds"][k] == best}
                assert int(dp[a]) in positions, (key, row)
    assert multi_gene > 0  # the set has ALTs scored against two genes
    header = bcftools("view", "-h", str(out))
    assert "delta score, the maximum over genes, per ALT" in header
    assert "delta position, of the gene with the largest" in header


# --------------------------------------------------------------------------- outputs that are not regular files


def test_output_into_a_fifo_is_written_in_place(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 4)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    result = run_cli([*base_args, "-I", vcf, "-O", fifo])
    out, _ = reader.communicate(timeout=60)
    assert result.exit_code == 0, result.stderr
    assert len(data_lines(out.decode())) == 4
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf", "pipe"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_output_to_a_device_leaves_the_device_alone(base_args, tmp_path):
    # a private node of the null device: a regression replaces this node, never /dev/null
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    vcf = first_records(tmp_path / "in.vcf", 2)
    result = run_cli([*base_args, "-I", vcf, "-O", device])
    assert result.exit_code == 0, result.stderr
    assert device.is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf", "null"]


def test_a_symlinked_output_updates_its_target(base_args, tmp_path):
    vcf = first_records(tmp_path / "in.vcf", 3)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.vcf"
    target.write_text("old\n")
    link = tmp_path / "link.vcf"
    link.symlink_to(target)
    result = run_cli([*base_args, "-I", vcf, "-O", link])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(data_lines(target.read_text())) == 3
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["out.vcf"]


def test_process_substitution_and_a_link_to_standard_output(run_shell, base_args, tmp_path):
    # a private link to /proc/self/fd/1 (what /dev/stdout is): a regression replaces this link only
    first_records(tmp_path / "in.vcf", 5)
    (tmp_path / "stdout-link").symlink_to("/proc/self/fd/1")
    command = " ".join(str(a) for a in base_args)
    done = run_shell(
        f"spliceannot {command} -I in.vcf -O >(grep -vc '^#' > count.txt); sleep 1; "
        f"spliceannot {command} -I in.vcf -O stdout-link | cat > stdout.vcf",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "count.txt").read_text().strip() == "5"
    assert len(data_lines((tmp_path / "stdout.vcf").read_text())) == 5
    assert (tmp_path / "stdout-link").is_symlink()


# --------------------------------------------------------------------------- input streams


def test_process_substitution_input_is_read(run_shell, base_args, tmp_path):
    first_records(tmp_path / "in.vcf", 6)
    command = " ".join(str(a) for a in base_args)
    done = run_shell(f"spliceannot {command} -I <(bcftools view in.vcf) -O out.vcf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert parse_summary(done.stderr)["read"] == 6


def test_a_repeated_chrom_line_is_blamed_on_itself(base_args, tmp_path):
    header, data = example_lines()
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header + data[1:3] + [header[-1]] + data[3:5]))
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 2
    line_number = len(header) + 3
    assert f"in.vcf:{line_number}:" in result.stderr and "#CHROM" in result.stderr, result.stderr
    assert not (tmp_path / "out.vcf").exists()


def test_a_newline_in_a_file_name_stays_on_one_line(base_args, tmp_path):
    result = run_cli([*base_args, "-I", tmp_path / "two\nlines.vcf", "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "two\\nlines.vcf" in lines[0], lines


def test_an_alt_outside_latin1_passes_through_counted(base_args, tmp_path):
    header, data = example_lines()
    odd = data[3].split("\t")
    odd[4] = "\u011e"  # not Latin-1
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header + data[1:3] + ["\t".join(odd)] + data[4:6]), encoding="utf-8")
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 0, result.stderr
    summary = parse_summary(result.stderr)
    assert summary["read"] == summary["written"] == 5
    out = (tmp_path / "out.vcf").read_bytes()
    assert "\t\u011e\t".encode() in out


# --------------------------------------------------------------------------- indexes and regions


def bgzip_indexed(tmp_path: Path, count: int) -> Path:
    vcf = first_records(tmp_path / "in.vcf", count)
    bcftools("view", "-Oz", "-o", str(tmp_path / "in.vcf.gz"), str(vcf))
    bcftools("index", "-t", str(tmp_path / "in.vcf.gz"))
    return tmp_path / "in.vcf.gz"


@pytest.mark.usefixtures("need_bcftools")
def test_a_stale_index_is_refused(base_args, tmp_path):
    path = bgzip_indexed(tmp_path, 20)
    index = Path(str(path) + ".tbi")
    old = time.time() - 3600
    os.utime(index, (old, old))
    result = run_cli([*base_args, "-I", path, "-O", tmp_path / "out.vcf", "--regions", "chr16"])
    assert result.exit_code == 2
    assert "older than" in result.stderr and "in.vcf.gz.tbi" in result.stderr, result.stderr


@pytest.mark.usefixtures("need_bcftools")
@pytest.mark.parametrize(
    "regions",
    [
        "chr16:190000-250000,chr16:189000-200000",
        "chr16:240000-260000,chr16:100000-200000",
        "chr16:250000-251000,chr16:190000-191000,chr16:250500-260000",
    ],
)
def test_overlapping_regions_as_bcftools_view_r(base_args, tmp_path, regions):
    path = bgzip_indexed(tmp_path, 120)
    result = run_cli([*base_args, "-I", path, "-O", tmp_path / "out.vcf", "--regions", regions])
    assert result.exit_code == 0, result.stderr
    got = [l.split("\t")[2] for l in data_lines((tmp_path / "out.vcf").read_text())]
    expected = [
        l.split("\t")[2] for l in data_lines(bcftools("view", "-H", "-r", regions, str(path)))
    ]
    assert got == expected and len(got) > 3


@pytest.mark.usefixtures("need_bcftools")
def test_write_index_on_unsorted_input_leaves_nothing(base_args, tmp_path):
    header, data = example_lines()
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header + [data[5], data[2], data[8]]))
    out = tmp_path / "out.vcf.gz"
    result = run_cli([*base_args, "-I", vcf, "-O", out, "--write-index"])
    assert result.exit_code == 2
    assert "not sorted" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.vcf"]


# --------------------------------------------------------------------------- byte-exact pass-through

ODD_RECORDS = [
    # (ID, QUAL, INFO): type mismatches, odd QUAL spellings, escapes, a TAB-free oddity
    ("o1", "1e-50", "DP=abc"),
    ("o2", "30.00", "DP=1.5;AF=0.5000"),
    ("o3", "0", "NOTE=a%3Bb%3D;DP=07"),
    ("o4", ".", "FLAGGY;EMPTY=;X=1,,2"),
    ("o5", "1E+03", "AF=.5,1e-3"),
]
ODD_HEADER = (
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">\n'
    '##INFO=<ID=AF,Number=A,Type=Float,Description="frequency">\n'
)


@pytest.mark.parametrize("scored", [False, True])
def test_records_keep_every_byte_they_had(base_args, tmp_path, scored):
    header, data = example_lines()
    # v2.. are in a gene (scored); chr16:100000 N>A (v1) is never scored
    template = data[2] if scored else data[0]
    lines = []
    for ident, qual, info in ODD_RECORDS:
        fields = template.rstrip("\n").split("\t")
        fields[2], fields[5], fields[7] = ident, qual, info
        lines.append("\t".join(fields) + "\n")
    vcf = tmp_path / "in.vcf"
    vcf.write_text("".join(header[:-1]) + ODD_HEADER + header[-1] + "".join(lines))
    result = run_cli([*base_args, "-I", vcf, "-O", tmp_path / "out.vcf"])
    assert result.exit_code == 0, result.stderr
    got = data_lines((tmp_path / "out.vcf").read_text())
    assert parse_summary(result.stderr)["scored"] == (len(lines) if scored else 0)
    for before, after in zip(lines, got):
        if scored:
            value = info_value(after)
            assert value is not None
            assert after == before.rstrip("\n") + f";SpliceAI={value}"
        else:
            assert after == before.rstrip("\n")


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_hangup_leaves_no_partial_output(base_args, tmp_path, signum):
    from conftest import spliceannot_executable

    header, _ = example_lines()
    filler = [f"chr16\t{190000 + i}\tf{i}\tA\tG\t.\tPASS\t.\n" for i in range(4000)]
    (tmp_path / "big.vcf").write_text("".join(header + filler))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [
            spliceannot_executable(),
            *map(str, base_args),
            "-I",
            "big.vcf",
            "-O",
            "out.vcf",
            "--no-cache",
        ],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any(
        p.name.startswith(".out.vcf") for p in tmp_path.iterdir()
    ):
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert b"Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.vcf"]
